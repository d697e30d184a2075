//! `--dump-conf`: the resolved model as stable text.
