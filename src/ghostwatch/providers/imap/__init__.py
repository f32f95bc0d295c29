"""Any IMAP mailbox: the connection (`session`), raw commands (`commands`), folder roles
and keys (`folders`), incremental sync (`sync`), the mail source (`source`), writes
(`actions`), the CalDAV calendar (`calendar`) and the password in the vault (`signin`)."""
