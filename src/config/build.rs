//! Tree to model, with keepalived's defaults and located diagnostics.
use super::{LoadOptions, Loaded};
use std::path::Path;

pub fn load(path: &Path, _opts: &LoadOptions) -> Loaded {
    Loaded {
        config: super::model::Config::default(),
        diagnostics: Vec::new(),
        missing_files: vec![path.to_path_buf()],
    }
}

pub fn load_str(_text: &str, origin: &Path, _opts: &LoadOptions) -> Loaded {
    Loaded {
        config: super::model::Config::default(),
        diagnostics: Vec::new(),
        missing_files: vec![origin.to_path_buf()],
    }
}
