"""Plain-python helpers used by the ``crm.migration`` model.

``staging``  validates and normalises incoming staged records,
``commit``   writes staged records into real Odoo models in dependency order,
``rollback`` undoes a commit from the migration's links,
``sample``   picks a sample to commit first and diffs it against Odoo.
"""
