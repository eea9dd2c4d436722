/** @odoo-module **/
/**
 * crm_migration_autorefresh: put on the migration form (`<widget name="crm_migration_autorefresh"/>`),
 * it reloads the record every 2 seconds while its background job (upload / commit) is queued or
 * running, so the progress computed on the server moves on screen. It never reloads a record
 * with unsaved changes, and does nothing when no job runs.
 */
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { Component, onMounted, onWillUnmount } from "@odoo/owl";

const ACTIVE_JOB_STATES = ["queued", "running"];
const REFRESH_MS = 2000;

export class CrmMigrationAutorefresh extends Component {
    static template = "crm_migration.Autorefresh";
    static props = { ...standardWidgetProps };

    setup() {
        this.busy = false;
        this.timer = null;
        onMounted(() => {
            this.timer = setInterval(() => this.refresh(), REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    get active() {
        const record = this.props.record;
        return !record.isNew && ACTIVE_JOB_STATES.includes(record.data.job_state);
    }

    async refresh() {
        const record = this.props.record;
        if (this.busy || !this.active) {
            return;
        }
        this.busy = true;
        try {
            if (!(await record.isDirty())) {
                await record.load();
            }
        } catch {
            // a failed reload (server restarting...) is retried at the next tick
        } finally {
            this.busy = false;
        }
    }
}

export const crmMigrationAutorefresh = {
    component: CrmMigrationAutorefresh,
    fieldDependencies: [{ name: "job_state", type: "selection" }],
};

registry.category("view_widgets").add("crm_migration_autorefresh", crmMigrationAutorefresh);
