//! The line preprocessor of keepalived.conf: reads files line by line, strips comments and
//! feeds logical lines to the lexer and the tree builder.

use super::lex::{strip_comment, tokenize, Tok};
use super::tree::{Builder, Parsed};
use super::{Diagnostic, LoadOptions, Severity, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Pre {
    diags: Vec<Diagnostic>,
    missing: Vec<PathBuf>,
    builder: Builder,
    toks: Vec<Tok>,
}

impl Pre {
    fn new(_opts: &LoadOptions) -> Self {
        Pre {
            diags: Vec::new(),
            missing: Vec::new(),
            builder: Builder::default(),
            toks: Vec::new(),
        }
    }

    fn run_text(&mut self, text: &str, file: &Arc<PathBuf>) {
        for (no, raw) in text.split('\n').enumerate() {
            let line = strip_comment(raw);
            let trimmed = line.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let lead = line.len() - trimmed.len();
            let body = trimmed.trim_end_matches(|c: char| c.is_ascii_whitespace());
            if body.is_empty() {
                continue;
            }
            let col = 1 + line[..lead].chars().count() as u32;
            let span = Span {
                file: file.clone(),
                line: no as u32 + 1,
                col,
            };
            tokenize(body, &[(0, span)], &mut self.toks, &mut self.diags);
            self.builder.line(&mut self.toks, &mut self.diags);
        }
    }

    fn finish(self) -> Parsed {
        let mut diags = self.diags;
        let nodes = self.builder.finish(&mut diags);
        Parsed {
            nodes,
            diagnostics: diags,
            missing_files: self.missing,
        }
    }
}

pub(crate) fn run_file(path: &Path, opts: &LoadOptions) -> Parsed {
    let mut pre = Pre::new(opts);
    let file = Arc::new(path.to_path_buf());
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            pre.run_text(&text, &file);
        }
        Err(e) => {
            pre.missing.push(path.to_path_buf());
            pre.diags.push(Diagnostic {
                severity: if opts.all_config {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                span: Span {
                    file,
                    line: 0,
                    col: 0,
                },
                message: format!("cannot read configuration file: {e}"),
            });
        }
    }
    pre.finish()
}

pub(crate) fn run_str(text: &str, origin: &Path, opts: &LoadOptions) -> Parsed {
    let mut pre = Pre::new(opts);
    let file = Arc::new(origin.to_path_buf());
    pre.run_text(text, &file);
    pre.finish()
}
