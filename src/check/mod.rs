//! Health checkers (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK, DNS_CHECK,
//! UDP_CHECK, PING_CHECK, FILE_CHECK) as non-blocking state machines. Their configuration is
//! parsed by `config`; the runtime behaviour arrives with a later issue.
