//! Lexing keepalived.conf: comments, quoting, includes, conditionals, defines, ~SEQ.
