"""Planner statistics kept up with a bulk load (issue #11, services/planner_stats.py): the rule,
and the registry's tables asked of PostgreSQL's statistics for real. The effect at scale (a
staging call's key lookup planned as an index probe instead of a scan of the migration) is
measured by hand with EXPLAIN on a 470,000-record staging (README, "A million records")."""
from odoo.tests.common import TransactionCase, tagged

from ..services import planner_stats


@tagged("post_install", "-at_install")
class TestPlannerStats(TransactionCase):

    def test_rule(self):
        self.assertFalse(planner_stats.needs_analyze(9_999, -1), "below the floor: left to autovacuum")
        self.assertTrue(planner_stats.needs_analyze(10_000, -1), "never analyzed")
        self.assertTrue(planner_stats.needs_analyze(50_000, 20_000), "more than doubled")
        self.assertFalse(planner_stats.needs_analyze(40_000, 20_000), "doubled, not more")
        self.assertFalse(planner_stats.needs_analyze(12, 0, floor=20))

    def test_known_tables_are_left_alone(self):
        # res.country stands for its table; just analyzed, the planner knows it: nothing to redo
        self.env.cr.execute("ANALYZE res_country")
        self.assertEqual(planner_stats.refresh(self.env, ["res.country"], floor=1), [])
        self.env.cr.execute("SELECT reltuples FROM pg_class WHERE relname = 'res_country'")
        self.assertGreater(self.env.cr.fetchone()[0], 200, "ANALYZE counted the countries")
        self.assertEqual(planner_stats.refresh_tables(self.env.cr, []), [])
