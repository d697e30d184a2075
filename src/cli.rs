//! keepalived-compatible command line options (getopts). Filled by the CLI work.
