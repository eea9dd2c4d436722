from odoo.tests import TransactionCase, tagged

from ..compat import ODOO_VERSION
from ..services.partner_sync import create_partners
from ..services.quiet_context import QUIET_CONTEXT


class _Undo(Exception):
    pass


@tagged("post_install", "-at_install")
class TestPartnerSync(TransactionCase):
    """``create_partners`` (the commit's create of res.partner, issue #11) gives exactly what
    ``res.partner.create`` gives: every stored field of the new partners and of their parents,
    for a batch that meets every step of base's per-partner sync."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"].with_context(**QUIET_CONTEXT)
        be = cls.env.ref("base.be")
        industry = cls.env["res.partner.industry"].create({"name": "Sync Industry"})
        cls.full = cls.Partner.create({
            "name": "Sync Full", "is_company": True, "street": "1 Rue Haute", "city": "Brussels",
            "zip": "1000", "country_id": be.id, "vat": "BE0477472701", "industry_id": industry.id,
            "company_registry": "REG-1", "lang": "en_US",
        })
        cls.sub = cls.Partner.create({"name": "Sync Department", "parent_id": cls.full.id,
                                      "city": "Ghent"})
        cls.empty_one = cls.Partner.create({"name": "Sync Empty One", "is_company": True, "lang": False})
        cls.empty_two = cls.Partner.create({"name": "Sync Empty Two", "is_company": True})
        cls.partial = cls.Partner.create({"name": "Sync Partial", "is_company": True, "city": "Liège"})
        cls.parents = cls.full | cls.sub | cls.empty_one | cls.empty_two | cls.partial

    def _vals_list(self):
        full, sub = self.full.id, self.sub.id
        return [
            {"name": "C1", "parent_id": full, "street": "Own street", "vat": "BE0000000097", "email": "c1@x.example"},
            {"name": "C2", "parent_id": full, "type": "invoice", "city": "Antwerp"},
            {"name": "C3", "parent_id": sub, "phone": "+32 2 000 00 00"},
            {"name": "C4", "parent_id": self.empty_one.id, "street": "First street", "city": "Namur"},
            {"name": "C5", "parent_id": self.empty_two.id, "street": "Second street"},
            {"name": "C6", "parent_id": self.empty_two.id, "city": "Mons"},
            {"name": "C7", "parent_id": self.partial.id, "street": "Kept? no", "zip": "4000"},
            {"name": "C8", "parent_id": full, "lang": "en_US"},
            {"name": "C9", "street": "Alone", "website": "alone.example"},
            {"name": "C10", "type": "contact", "city": "Typed"},
            {"name": "C11", "parent_id": full, "type": "delivery"},
        ]

    def _snapshot(self, records, created):
        # a new partner named by another field (its own commercial entity) by its place in the batch
        new = {record.id: ("new", i) for i, record in enumerate(created)}
        fields = [
            name for name, field in records._fields.items()
            if field.store and field.type not in ("one2many", "binary")
            and name not in ("id", "create_date", "write_date", "create_uid", "write_uid")
            and not name.startswith(("message_", "activity_"))
        ]
        rows = []
        for record in records:
            row = {}
            for name in fields:
                value = record[name]
                if records._fields[name].type == "many2one":
                    value = new.get(value.id, value.id)
                elif records._fields[name].type == "many2many":
                    value = sorted(new.get(i, i) for i in value.ids)
                row[name] = value
            rows.append(row)
        return rows

    def _run(self, create):
        try:
            with self.env.cr.savepoint():
                created = create(self.Partner, self._vals_list())
                self.env.flush_all()
                self.env.invalidate_all()
                raise _Undo(self._snapshot(created, created), self._snapshot(self.parents, created))
        except _Undo as undo:
            self.env.invalidate_all(flush=False)
            return undo.args

    def test_same_as_create(self):
        if ODOO_VERSION != 18:
            self.skipTest("the grouped sync is Odoo 18's (others create the plain way)")
        plain, plain_parents = self._run(lambda model, vals_list: model.create(vals_list))
        ours, our_parents = self._run(create_partners)
        # the batch meets every step, or the comparison would prove little
        by_name = {row["name"]: row for row in plain}
        self.assertEqual(by_name["C1"]["vat"], "BE0477472701", "commercial fields from the company")
        self.assertEqual(by_name["C3"]["vat"], "BE0477472701", "from the commercial entity, two levels up")
        self.assertEqual(by_name["C1"]["street"], "1 Rue Haute", "the company's address")
        self.assertEqual(by_name["C2"]["city"], "Antwerp", "an invoice address keeps its own")
        self.assertFalse(by_name["C7"]["street"], "a parent with part of an address gives all of it")
        self.assertEqual(by_name["C1"]["lang"], "en_US", "the language from the parent")
        self.assertEqual(by_name["C9"]["lang"], "en_US", "no parent: the default language")
        self.assertFalse(by_name["C4"]["lang"], "a parent without one: the context's, none here")
        empty_one = next(row for row in plain_parents if row["name"] == "Sync Empty One")
        self.assertEqual(empty_one["street"], "First street", "a company's first contact gives it an address")
        empty_two = next(row for row in plain_parents if row["name"] == "Sync Empty Two")
        self.assertFalse(empty_two["street"], "not when the company gets two contacts at once")
        for row_plain, row_ours in zip(plain, ours, strict=True):
            self.assertEqual(row_ours, row_plain, row_plain["name"])
        self.assertEqual(our_parents, plain_parents)

    def test_plain_create_for_what_it_does_not_group(self):
        vals_list = self._vals_list()
        vals_list[0]["active"] = False
        created = create_partners(self.Partner, vals_list)
        self.assertEqual(created[0].street, "1 Rue Haute")
        self.assertEqual(created.mapped("name"), [v["name"] for v in vals_list])
