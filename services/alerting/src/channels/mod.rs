//! Delivery channels: email over SMTP, signed webhooks, and the signed links carried by messages.
