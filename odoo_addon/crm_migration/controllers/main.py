"""Downloads of the reconciliation report (models/crm_migration_report.py): the model builds
the file, the controller only checks access and serves it."""

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.http import content_disposition, request

MANAGER_GROUP = "crm_migration.group_crm_migration_manager"


class CrmMigrationReportController(http.Controller):
    def _migration(self, migration_id):
        if not request.env.user.has_group(MANAGER_GROUP):
            raise Forbidden()
        migration = request.env["crm.migration"].browse(migration_id).exists()
        if not migration:
            raise NotFound()
        return migration

    def _serve(self, migration, data, extension, content_type):
        return request.make_response(data, headers=[
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Content-Disposition", content_disposition(migration._report_filename(extension))),
        ])

    @http.route("/crm_migration/<int:migration_id>/report.csv", type="http", auth="user", methods=["GET"])
    def report_csv(self, migration_id, **kwargs):
        migration = self._migration(migration_id)
        return self._serve(migration, migration._report_csv(), "csv", "text/csv; charset=utf-8")

    @http.route("/crm_migration/<int:migration_id>/report.pdf", type="http", auth="user", methods=["GET"])
    def report_pdf(self, migration_id, **kwargs):
        migration = self._migration(migration_id)
        return self._serve(migration, migration._report_pdf(), "pdf", "application/pdf")
