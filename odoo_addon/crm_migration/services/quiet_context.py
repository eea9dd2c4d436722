"""The context every write of a migration runs in: no tracking, no chatter log, no mails,
notifications, subscriptions or bus messages (tracking and mail noise off)."""

from .attached import IMPORT_CONTEXT

QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_notrack": True,
    "mail_create_nosubscribe": True,
    # calendar.event: no invitation/update mails to attendees (calendar.attendee
    # _send_mail_to_attendees), no alarm setup / notification (calendar.event create and write),
    # and never notify the author
    "no_mail_to_attendees": True,
    "dont_notify": True,
    "mail_notify_author": False,
    # calendar.event (19): the description stays the source's, without the organizer's and the
    # first attendee's contact details Odoo 19 appends to a new event's
    "skip_contact_description": True,
    # no "you have been assigned" mail to the owners of migrated records (project.task, mail.thread)
    "mail_auto_subscribe_no_notify": True,
    # mail.activity: no assignment notification, subscription or bus message (services/attached.py)
    IMPORT_CONTEXT: True,
}
