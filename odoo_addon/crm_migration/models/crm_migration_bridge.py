"""The bridge seen from Odoo: its URL and token (Settings), its health, and the start of its
staging jobs (docs/journey.md). The bridge answers 202 at once and works in the background: it
stages into this migration over XML-RPC in its own transactions and reports its progress with
``api_job_progress`` (models/crm_migration_job_runner.py)."""

import json
import re

import requests

from odoo import api, models
from odoo.exceptions import UserError

from .res_config_settings import DEFAULT_BRIDGE_URL

HEALTH_TIMEOUT = 5  # seconds
UPLOAD_TIMEOUT = 300  # seconds: the bridge answers once it has the files (202), not once staged


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    @api.model
    def _bridge_param(self, key, default=False):
        return self.env["ir.config_parameter"].sudo().get_param(f"crm_migration.{key}", default) or default

    @api.model
    def _bridge_url(self):
        return self._bridge_param("bridge_url", DEFAULT_BRIDGE_URL).strip().rstrip("/")

    @api.model
    def _bridge_headers(self):
        token = self._bridge_param("bridge_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    @api.model
    def _short_error(self, exc):
        """A readable reason for a ``requests`` error (not urllib3's whole repr)."""
        if isinstance(exc, requests.Timeout):
            return self.env._("no answer in time")
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return self.env._("HTTP %(status)s", status=exc.response.status_code)
        text = str(exc)
        found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        return found.group(1).strip() if found else text

    @api.model
    def _bridge_down_message(self, url, exc):
        return self.env._(
            "The migration bridge at %(url)s does not answer: %(error)s. Check Settings → CRM Migration "
            "(bridge URL and token) and that the bridge is running.", url=url, error=self._short_error(exc))

    @api.model
    def _bridge_check(self):
        """``GET {bridge_url}/health``: UserError with a clear message when the bridge does not answer."""
        url = self._bridge_url()
        try:
            response = requests.get(f"{url}/health", headers=self._bridge_headers(), timeout=HEALTH_TIMEOUT)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise UserError(self._bridge_down_message(url, exc)) from None
        return True

    def _bridge_error_message(self, response):
        """The bridge's JSON error (``{"error", "message", "file"?, "row"?, "field"?}``) as one line
        naming file, row and field."""
        _ = self.env._
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        message = self._located_message(payload) or response.text[:500] or response.reason
        if response.status_code in (502, 503):
            return _("The bridge could not stage into Odoo (HTTP %(status)s): %(message)s",
                     status=response.status_code, message=message)
        return _("The bridge refused the upload (HTTP %(status)s): %(message)s",
                 status=response.status_code, message=message)

    def _upload_fields(self):
        """The multipart form fields of the upload (docs/journey.md)."""
        self.ensure_one()
        source = self._source_name()
        if not source:
            raise UserError(self.env._("Choose the source system of migration %(name)s before uploading.",
                                       name=self.display_name))
        data = {"source": source, "job": self.job_token}
        if self.upload_mapping_json:
            data["mapping"] = self.upload_mapping_json
        saved = self._saved_decisions()
        if saved:
            data["saved"] = json.dumps(saved)
        llm_url = self._bridge_param("llm_url")
        if llm_url:
            data["llm"] = json.dumps({"url": llm_url, "key": self._bridge_param("llm_key") or "",
                                      "model": self._bridge_param("llm_model") or ""})
        return data

    def _job_upload(self):
        """Start the bridge's staging job: the export files (``/upload``, multipart) or, for an API
        source, the credentials (``/extract``, JSON). ``"in_bridge"`` once the bridge took it (202):
        it reports the rest; a synchronous answer (200) means it is already done."""
        self.ensure_one()
        url = self._bridge_url()
        if self._source_input() == "api":
            return self._bridge_start(f"{url}/migrations/{self.id}/extract", json=dict(
                self._extract_body(), resume=bool(self.job_resume)))
        attachments = self.upload_attachment_ids
        if not attachments:
            raise UserError(self.env._("Migration %(name)s has no export file to upload.", name=self.display_name))
        files = [("files", (att.name, att.raw, att.mimetype or "application/octet-stream")) for att in attachments]
        return self._bridge_start(f"{url}/migrations/{self.id}/upload", data=self._upload_fields(), files=files)

    def _extract_body(self):
        """The JSON body of ``/extract``: the upload's fields, decoded, and the stored credentials."""
        fields_ = self._upload_fields()
        body = {key: json.loads(value) if key in ("mapping", "saved", "llm") else value
                for key, value in fields_.items()}
        body["credentials"] = self._credentials_dict()
        return body

    def _bridge_start(self, endpoint, **payload):
        try:
            response = requests.post(endpoint, headers=self._bridge_headers(), timeout=UPLOAD_TIMEOUT, **payload)
        except requests.RequestException as exc:
            raise UserError(self._bridge_down_message(self._bridge_url(), exc)) from None
        if response.status_code == 409:
            raise UserError(self.env._(
                "The bridge is still running a job of migration %(name)s (it may be finishing one that "
                "was stopped): try again in a moment.", name=self.display_name))
        if response.status_code >= 400:
            raise UserError(self._bridge_error_message(response))
        return "in_bridge" if response.status_code == 202 else True

    def _located_message(self, payload):
        """The bridge's message naming file, row and field (once, if it does not already)."""
        _ = self.env._
        message = str(payload.get("message") or payload.get("error") or "")
        if payload.get("file") and not message.startswith(str(payload["file"])):
            location = str(payload["file"])
            if payload.get("row") is not None:
                location += _(", row %(row)s", row=payload["row"])
            if payload.get("field"):
                location += _(', field "%(field)s"', field=payload["field"])
            message = f"{location}: {message}"
        return message
