import contextlib
import json
from unittest import mock

import requests

from odoo.tests import TransactionCase

from ..models.crm_migration_credential import clear_sources_cache
from ..services import version_folds

# what the bridge's GET /sources answers in tests that open the upload wizard
TEST_SOURCES = [{"name": "testsrc", "label": "Test source", "input": "csv-upload", "credentials": []}]


class MigrationCase(TransactionCase):
    """Helpers to build staged records the way the bridge sends them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Migration = cls.env["crm.migration"]
        cls.Partner = cls.env["res.partner"].with_context(active_test=False)
        cls.Tag = cls.env["res.partner.category"].with_context(active_test=False)
        cls.Link = cls.env["crm.migration.link"]

    @contextlib.contextmanager
    def bridge_answers(self, sources=None):
        """The bridge's ``GET /health`` and ``GET /sources`` stood in for (the wizard offers the
        bridge's sources, so a test that opens it needs an answer)."""
        def get(url, headers=None, timeout=None):
            response = requests.Response()
            response.status_code = 200
            payload = (sources or TEST_SOURCES) if url.endswith("/sources") else {"status": "ok"}
            response._content = json.dumps(payload).encode()
            return response
        clear_sources_cache()
        try:
            with mock.patch("odoo.addons.crm_migration.models.crm_migration_credential.requests.get", side_effect=get):
                yield
        finally:
            clear_sources_cache()

    @staticmethod
    def odoo_contact_addresses():
        """Contacts staged as they come, without 19's own-address fold (services/version_folds.py):
        for tests of what Odoo itself derives from a company's first contact's address."""
        return mock.patch.object(version_folds, "keep_own_address", lambda env, model, record, values: (values, []))

    def new_migration(self, name="Test migration"):
        mig_id = self.Migration.api_create({"name": name, "source": "testsrc"})
        self.assertIsInstance(mig_id, int)
        return self.Migration.browse(mig_id)

    @staticmethod
    def staged(key, obj, model, values, refs=None, lookups=None, match=None, issues=None, row=1, file=None):
        return {
            "key": key,
            "object": obj,
            "model": model,
            "values": values,
            "refs": refs or {},
            "lookups": lookups or {},
            "match": match or [],
            "source": {"file": file or f"{obj}s.csv", "row": row, "data": {"Id": key}},
            "issues": issues or [],
        }

    def tag(self, name, row=1):
        return self.staged(f"testsrc:tag:{name.lower()}", "tag", "res.partner.category", {"name": name},
                           match=[["name"]], row=row)

    def company(self, key, name, parent=None, row=1, **values):
        refs = {"parent_id": f"testsrc:company:{parent}"} if parent else {}
        return self.staged(f"testsrc:company:{key}", "company", "res.partner",
                           dict({"name": name, "is_company": True}, **values), refs=refs, row=row)

    def contact(self, key, name, email, company=None, tags=(), row=1, lookups=None, **values):
        refs = {}
        if company:
            refs["parent_id"] = f"testsrc:company:{company}"
        if tags:
            refs["category_id"] = [f"testsrc:tag:{t.lower()}" for t in tags]
        return self.staged(f"testsrc:contact:{key}", "contact", "res.partner",
                           dict({"name": name, "email": email, "is_company": False}, **values),
                           refs=refs, lookups=lookups, match=[["email"]], row=row)

    def record_of(self, migration, key):
        return migration.record_ids.filtered(lambda r: r.key == key)

    def link_of(self, migration, key):
        return self.Link.search([("migration_id", "=", migration.id), ("key", "=", key)])

    def partner(self, email):
        return self.Partner.search([("email", "=ilike", email)])
