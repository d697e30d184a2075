//! The block tree: keyword lines with their arguments and nested blocks, every token
//! located. Built from the token stream of `lex` (fed line by line by the preprocessor in
//! `lang_pre`), consumed by `build`.
//!
//! Entry points: [`parse_file`] and [`parse_str`].
//!
//! Tree rules (keepalived's "braces anywhere"):
//! - a statement is the words between line ends and braces: its first word is the
//!   keyword, the rest its arguments;
//! - `{` opens a block for the statement before it on the same line, or, when the line
//!   holds nothing before the `{`, for the previous statement if that one has no block
//!   yet (`vrrp_instance X` then `{` on the next line);
//! - `}` closes the innermost block; text after it starts a new statement;
//! - `x { 1 2 }` gives `x` one child: keyword `1` with argument `2` (as keepalived).
//!
//! Errors: a stray `}` is reported at its position; a block never closed is reported at
//! its opening brace, naming the keyword that opened it; a `{` with no statement to open
//! is reported and its contents dropped.

use super::lex::Tok;
use super::{Diagnostic, LoadOptions, Severity, Span};
use std::path::{Path, PathBuf};

/// One word of a line after quoting, substitution and expansion.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Word {
    pub text: String,
    pub span: Span,
    /// It was quoted in the file (so `{`/`}` inside it are not braces).
    pub quoted: bool,
}

/// `keyword arg arg ... [{ children }]`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    pub keyword: Word,
    pub args: Vec<Word>,
    /// `Some` when the line opened a block (even an empty one).
    pub children: Option<Vec<Node>>,
    /// The opening brace, when there is a block.
    pub open_brace: Option<Span>,
}

/// The result of reading a configuration's text: top-level statements, every diagnostic
/// of the language layer, and the files that could not be read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub nodes: Vec<Node>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that could not be read: the main file, or an `include` naming a file that does
    /// not exist / is unreadable, or (with `-e` or an include check) a glob matching nothing.
    pub missing_files: Vec<PathBuf>,
}

/// Reads and parses the configuration file at `path`, following includes.
pub fn parse_file(path: &Path, opts: &LoadOptions) -> Parsed {
    super::lang_pre::run_file(path, opts)
}

/// Parses configuration text held in memory. `origin` names it in diagnostics, and
/// includes resolve relative to its directory.
pub fn parse_str(text: &str, origin: &Path, opts: &LoadOptions) -> Parsed {
    super::lang_pre::run_str(text, origin, opts)
}

/// An open block: its header statement and the statements read so far inside it.
struct Frame {
    header: Option<Node>,
    nodes: Vec<Node>,
    brace: Span,
}

/// Builds the tree from tokens, one logical line at a time.
#[derive(Default)]
pub(crate) struct Builder {
    stack: Vec<Frame>,
    top: Vec<Node>,
    pending: Option<Node>,
}

impl Builder {
    fn nodes_mut(&mut self) -> &mut Vec<Node> {
        match self.stack.last_mut() {
            Some(f) => &mut f.nodes,
            None => &mut self.top,
        }
    }

    fn flush(&mut self) {
        if let Some(n) = self.pending.take() {
            self.nodes_mut().push(n);
        }
    }

    /// Feeds the tokens of one logical line (draining `toks`).
    pub(crate) fn line(&mut self, toks: &mut Vec<Tok>, diags: &mut Vec<Diagnostic>) {
        for t in toks.drain(..) {
            match t {
                Tok::Word(w) => match self.pending.as_mut() {
                    Some(n) => n.args.push(w),
                    None => {
                        self.pending = Some(Node {
                            keyword: w,
                            args: Vec::new(),
                            children: None,
                            open_brace: None,
                        })
                    }
                },
                Tok::Open(span) => {
                    let header = match self.pending.take() {
                        Some(n) => Some(n),
                        None => {
                            let nodes = self.nodes_mut();
                            match nodes.last() {
                                Some(last) if last.children.is_none() => nodes.pop(),
                                _ => None,
                            }
                        }
                    };
                    if header.is_none() {
                        diags.push(Diagnostic {
                            severity: Severity::Error,
                            span: span.clone(),
                            message: "'{' without a keyword to open; its block is ignored"
                                .to_string(),
                        });
                    }
                    self.stack.push(Frame {
                        header,
                        nodes: Vec::new(),
                        brace: span,
                    });
                }
                Tok::Close(span) => {
                    self.flush();
                    match self.stack.pop() {
                        Some(f) => self.close(f),
                        None => diags.push(Diagnostic {
                            severity: Severity::Error,
                            span,
                            message: "unexpected '}' (no block is open)".to_string(),
                        }),
                    }
                }
            }
        }
        self.flush();
    }

    fn close(&mut self, f: Frame) {
        if let Some(mut h) = f.header {
            h.children = Some(f.nodes);
            h.open_brace = Some(f.brace);
            self.nodes_mut().push(h);
        }
    }

    /// Ends the input: every block still open is reported at its opening brace (outermost
    /// first) and closed.
    pub(crate) fn finish(mut self, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
        self.flush();
        for f in &self.stack {
            let what = match &f.header {
                Some(h) => format!("opened by '{}'", h.keyword.text),
                None => "without a keyword".to_string(),
            };
            diags.push(Diagnostic {
                severity: Severity::Error,
                span: f.brace.clone(),
                message: format!("unclosed '{{' {what}: missing '}}' before end of input"),
            });
        }
        while let Some(f) = self.stack.pop() {
            self.close(f);
        }
        self.top
    }
}
