SENDER = "me@example.com"
