"""List subscriptions: API clients subscribe to a subject or a whole list and receive signed webhooks when a
subject enters or leaves a list, so business systems need not poll.

Transactional outbox: the list step writes one `WebhookDelivery` per matching subscription in its own
transaction (`notify_list_change`), so a rolled-back change sends nothing and a committed one is never lost;
a job (`deliver_due`) sends what is due, retries with backoff and keeps the delivery log. Delivery is at least
once: receivers deduplicate on the delivery id. The signature recipe is in `service.py`.

Allowed imports: lists → subscriptions (the outbox call); subscriptions → accounts, archive (subjects) and
`lists.rules` (the pure list-type catalogue) — never `lists.service`, so there is no import cycle.
"""
