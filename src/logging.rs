//! Logging set-up: console (env_logger) with `-l`, syslog otherwise. Filled by the CLI work.
