"""Mail formats, read without any network or store: RFC 5322 header blocks (`parse`), MIME
bodies (`mime`), iCalendar (`ics`), and the Maildir++ layout (`maildir`)."""
