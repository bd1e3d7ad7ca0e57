//! Errors of the core crate. A malformed file always yields a [`FormatError`] that names the
//! file, where in it the problem is, and what was wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The whole file (e.g. it is empty or a required companion file is missing).
    File,
    /// A 1-based line number in a text file.
    Line(usize),
    /// A 0-based byte offset in a binary file.
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(n) => write!(f, ":{n}"),
            Location::Byte(b) => write!(f, " @ byte {b}"),
        }
    }
}

/// A file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{location}: {message}", file.display())]
pub struct FormatError {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
}

impl FormatError {
    pub fn new(file: impl AsRef<Path>, location: Location, message: impl Into<String>) -> Self {
        Self {
            file: file.as_ref().to_path_buf(),
            location,
            message: message.into(),
        }
    }
    pub fn at_line(file: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Self::new(file, Location::Line(line), message)
    }
    pub fn at_byte(file: impl AsRef<Path>, byte: u64, message: impl Into<String>) -> Self {
        Self::new(file, Location::Byte(byte), message)
    }
}

/// Every error of `courier-core`.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid value: {0}")]
    Invalid(String),
}

impl CoreError {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Reads a whole file, turning an I/O failure into an error that names the file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CoreError::io(path, e))
}

/// Reads a whole text file; invalid UTF-8 is a format error at the byte where it starts.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = read_file(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to() as u64;
        FormatError::at_byte(path, at, "not valid UTF-8 text").into()
    })
}
