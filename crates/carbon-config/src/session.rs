//! An edit session on one home: the files the operations touched, each
//! with its original bytes and its edited state, all in memory.
//!
//! Operations load a file the first time they need it and stage edits on
//! it. [`Session::changes`] renders every file and returns those whose bytes
//! differ: the plan. Nothing here writes to disk. Writing belongs to
//! whoever holds the plan, so plan, check and apply can share this one path.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use xmlsplice::{Document, Encoding, TreeCache};

use crate::error::{Error, Result};
use crate::home::{CarbonHome, ConfigModel};

/// What an operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The file, relative to the home.
    pub file: PathBuf,
    /// What the operation ensures, e.g. `clustering enable="true"`.
    pub what: String,
    /// Whether it changed anything (false: the state already held).
    pub changed: bool,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.changed {
            "changed"
        } else {
            "already so"
        };
        write!(f, "{}: {} ({state})", self.file.display(), self.what)
    }
}

/// A file whose bytes the session would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// The file, relative to the home.
    pub path: PathBuf,
    /// Its bytes now; `None` for a file that does not exist yet.
    pub before: Option<Vec<u8>>,
    /// What the file `before` was read from was (its device and inode tell
    /// it from a file put in its place since); `None` with `before`.
    pub read_from: Option<beneath::Meta>,
    /// Its bytes once changed.
    pub after: Vec<u8>,
}

impl FileChange {
    /// The change of `path` from `before` to `after`; none when they are the
    /// same bytes.
    fn between(
        path: PathBuf,
        before: Option<Vec<u8>>,
        after: Vec<u8>,
        read_from: Option<beneath::Meta>,
    ) -> Option<FileChange> {
        (before.as_ref() != Some(&after)).then_some(FileChange {
            path,
            before,
            read_from,
            after,
        })
    }
}

enum Loaded {
    Xml {
        original: Vec<u8>,
        doc: Box<Document>,
    },
    Text {
        original: Vec<u8>,
        text: String,
    },
    Bytes {
        original: Option<Vec<u8>>,
        bytes: Vec<u8>,
    },
}

/// The largest file a session reads by default: configuration files are
/// kilobytes, and a huge one is a mistake or an attack, not a config.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// A document no rule reads is left unsettled when rendering it would
/// re-parse at most 1/`SMALL_CHECK` of its text to check its edits
/// ([`Session::settle_where`]).
const SMALL_CHECK: usize = 8;

/// The operations' working state on one home.
pub struct Session<'h> {
    home: &'h CarbonHome,
    files: BTreeMap<PathBuf, Loaded>,
    /// What each loaded file was read from: two paths to one file must not
    /// both be written, and the commit writes over that very file only.
    objects: BTreeMap<PathBuf, beneath::Meta>,
    max_file_size: u64,
    trees: Option<TreeCache>,
    /// The deployment.toml keys a 4.5+ home's pack takes, read once.
    pack_keys: std::cell::OnceCell<Option<crate::deployment::PackKeys>>,
    /// deployment.toml parsed: it stays parsed while edits go on, its text
    /// rendered when asked for. Rendering and parsing the whole file at
    /// each edit cost its size each time (a captured recipe sets thousands
    /// of keys).
    deployment: Option<crate::deployment::Parsed>,
}

impl fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("home", &self.home.path())
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<'h> Session<'h> {
    /// A session on `home`, with nothing loaded.
    pub fn new(home: &'h CarbonHome) -> Session<'h> {
        Session {
            home,
            files: BTreeMap::new(),
            objects: BTreeMap::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            trees: None,
            pack_keys: std::cell::OnceCell::new(),
            deployment: None,
        }
    }

    /// Parses XML through `trees`, so that sessions on homes with the same
    /// files (a fleet unpacked from one archive) parse each text once.
    pub fn set_tree_cache(&mut self, trees: TreeCache) -> &mut Self {
        self.trees = Some(trees);
        self
    }

    /// Refuses files larger than `bytes` (default [`DEFAULT_MAX_FILE_SIZE`]).
    pub fn set_max_file_size(&mut self, bytes: u64) -> &mut Self {
        self.max_file_size = bytes;
        self
    }

    /// The largest file this session reads, in bytes.
    pub(crate) fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// The home.
    pub fn home(&self) -> &CarbonHome {
        self.home
    }

    fn read(&self, rel: &Path) -> Result<Option<Vec<u8>>> {
        Ok(self.read_file(rel)?.map(|(bytes, _)| bytes))
    }

    /// Reads `rel` to load it, noting the object it was read from.
    fn load(&mut self, rel: &Path) -> Result<Option<Vec<u8>>> {
        let Some((bytes, meta)) = self.read_file(rel)? else {
            return Ok(None);
        };
        self.objects.insert(rel.to_path_buf(), meta);
        Ok(Some(bytes))
    }

    /// The bytes of the file at `rel` and what it is, through the home's
    /// root (a link out of the home, a FIFO or a folder is refused);
    /// `None` when it does not exist.
    fn read_file(&self, rel: &Path) -> Result<Option<(Vec<u8>, beneath::Meta)>> {
        use std::io::Read;
        crate::home::check_relative(rel)?;
        let Some((file, meta)) = self.home.root().open_file(rel)? else {
            return Ok(None);
        };
        let full = || self.home.path().join(rel);
        // The size of the file opened, not of whatever the path names later.
        let len = meta.len;
        let too_large = |message: String| Error::Invalid {
            file: full(),
            message: format!("{message} (raise it with --max-file-size)"),
        };
        if len > self.max_file_size {
            return Err(too_large(format!(
                "{len} bytes is over the {}-byte limit for a file",
                self.max_file_size
            )));
        }
        if rel == Path::new(crate::deployment::FILE) {
            crate::deployment::check_size(len as usize, self.max_file_size).map_err(too_large)?;
        }
        // The bytes it had when measured: no more (a file that grows
        // meanwhile is being edited, which the commit notices), and in as
        // few reads as it takes: one, for a file read whole. (`take(len)` and
        // `read_to_end` read in pieces of 8 KB, then 16 KB, and so on.)
        let mut bytes = vec![0; len as usize];
        let mut filled = 0;
        while filled < bytes.len() {
            match (&file).read(&mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(Error::Io {
                        path: full(),
                        error,
                    })
                }
            }
        }
        bytes.truncate(filled);
        Ok(Some((bytes, meta)))
    }

    fn missing(&self, rel: &Path) -> Error {
        Error::Io {
            path: self.home.path().join(rel),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        }
    }

    /// The XML document at `rel`, loaded on first use.
    ///
    /// # Errors
    /// The file is missing or unreadable, does not parse, or the home
    /// regenerates its XML ([`Error::RegeneratedConfig`]).
    pub fn xml(&mut self, rel: &str) -> Result<&mut Document> {
        if self.home.model() == ConfigModel::DeploymentToml {
            return Err(Error::RegeneratedConfig {
                home: self.home.path().to_path_buf(),
            });
        }
        let key = PathBuf::from(rel);
        if !self.files.contains_key(&key) {
            let original = self.load(&key)?.ok_or_else(|| self.missing(&key))?;
            let doc = self
                .parse(&original)
                .map_err(|e| e.with_path(self.home.path().join(&key)))?;
            self.files.insert(
                key.clone(),
                Loaded::Xml {
                    original,
                    doc: Box::new(doc),
                },
            );
        }
        match self.files.get_mut(&key) {
            Some(Loaded::Xml { doc, .. }) => Ok(doc),
            _ => Err(Error::Invalid {
                file: key,
                message: "already opened as a non-XML file".into(),
            }),
        }
    }

    /// The keys the home's pack takes in deployment.toml, read on first
    /// use (its templates and key files do not change during a run).
    pub(crate) fn pack_keys(&self) -> Result<Option<&crate::deployment::PackKeys>> {
        if self.pack_keys.get().is_none() {
            let keys = crate::deployment::PackKeys::read(self.home, self.max_file_size)?;
            let _ = self.pack_keys.set(keys);
        }
        Ok(self.pack_keys.get().and_then(Option::as_ref))
    }

    /// deployment.toml, parsed on first use and kept parsed.
    pub(crate) fn deployment(&mut self) -> Result<&mut crate::deployment::Parsed> {
        if self.deployment.is_none() {
            let file = self.home.path().join(crate::deployment::FILE);
            let text = self.text(crate::deployment::FILE)?;
            self.deployment = Some(crate::deployment::Parsed::of(text, file)?);
        }
        Ok(self.deployment.as_mut().expect("parsed"))
    }

    /// deployment.toml's text as its edits leave it, where the parsed
    /// document is newer than the text held.
    fn deployment_rendered(&self, rel: &Path) -> Option<String> {
        let parsed = self.deployment.as_ref()?;
        if rel != Path::new(crate::deployment::FILE) {
            return None;
        }
        let Some(Loaded::Text { text, .. }) = self.files.get(rel) else {
            return None;
        };
        parsed.rendered(text)
    }

    /// The text file at `rel` (UTF-8), loaded on first use.
    pub fn text(&mut self, rel: &str) -> Result<&mut String> {
        // deployment.toml's edits, if any, made text; the caller may change
        // it, so the parsed document is dropped.
        if let Some(rendered) = self.deployment_rendered(Path::new(rel)) {
            if let Some(Loaded::Text { text, .. }) = self.files.get_mut(Path::new(rel)) {
                *text = rendered;
            }
        }
        if Path::new(rel) == Path::new(crate::deployment::FILE) {
            self.deployment = None;
        }
        let key = PathBuf::from(rel);
        if !self.files.contains_key(&key) {
            let original = self.load(&key)?.ok_or_else(|| self.missing(&key))?;
            let text = String::from_utf8(original.clone()).map_err(|_| Error::Invalid {
                file: self.home.path().join(&key),
                message: "not valid UTF-8 text".into(),
            })?;
            self.files
                .insert(key.clone(), Loaded::Text { original, text });
        }
        match self.files.get_mut(&key) {
            Some(Loaded::Text { text, .. }) => Ok(text),
            _ => Err(Error::Invalid {
                file: key,
                message: "already opened as another kind of file".into(),
            }),
        }
    }

    /// Sets the whole content of the file at `rel` (a copied jar, say).
    pub fn put_bytes(&mut self, rel: &Path, bytes: Vec<u8>) -> Result<()> {
        let original = match self.files.remove(rel) {
            Some(Loaded::Bytes { original, .. }) => original,
            Some(_) => {
                return Err(Error::Invalid {
                    file: rel.to_path_buf(),
                    message: "already opened as a configuration file".into(),
                })
            }
            None => self.load(rel)?,
        };
        self.files
            .insert(rel.to_path_buf(), Loaded::Bytes { original, bytes });
        Ok(())
    }

    /// The bytes the file at `rel` holds now, staged changes included.
    pub fn current_bytes(&self, rel: &Path) -> Result<Option<Vec<u8>>> {
        Ok(self.current(rel)?.map(Cow::into_owned))
    }

    /// As [`Session::current_bytes`], borrowed where the session holds them
    /// as they are (a file loaded and not edited since, or settled, in
    /// UTF-8), so that searching every file of a home copies none of them.
    pub fn current(&self, rel: &Path) -> Result<Option<Cow<'_, [u8]>>> {
        if let Some(rendered) = self.deployment_rendered(rel) {
            return Ok(Some(Cow::Owned(rendered.into_bytes())));
        }
        Ok(Some(match self.files.get(rel) {
            Some(Loaded::Bytes { bytes, .. }) => Cow::Borrowed(bytes),
            Some(Loaded::Text { text, .. }) => Cow::Borrowed(text.as_bytes()),
            Some(Loaded::Xml { doc, .. })
                if !doc.has_edits() && doc.encoding() == (Encoding::Utf8 { bom: false }) =>
            {
                Cow::Borrowed(doc.text().as_bytes())
            }
            Some(Loaded::Xml { doc, .. }) => Cow::Owned(
                doc.render()
                    .map_err(|e| e.with_path(self.home.path().join(rel)))?,
            ),
            None => match self.read(rel)? {
                Some(bytes) => Cow::Owned(bytes),
                None => return Ok(None),
            },
        }))
    }

    /// Parses `bytes` (a file of this home) as the session's own documents
    /// are parsed: through its tree cache, when it has one.
    pub fn parse(&self, bytes: &[u8]) -> std::result::Result<Document, xmlsplice::Error> {
        match &self.trees {
            Some(trees) => Document::parse_with(bytes, trees),
            None => Document::parse(bytes),
        }
    }

    /// Applies every document's staged edits (one re-parse each), so that
    /// the documents can be read as they would be written, without
    /// rendering and parsing them again.
    ///
    /// # Errors
    /// When an edited document would not parse.
    #[cfg(test)]
    pub(crate) fn settle(&mut self) -> Result<()> {
        self.settle_where(|_| true)
    }

    /// As [`Session::settle`], for the documents that will be read (at the
    /// paths `read` picks) and for those whose staged edits span much of
    /// them. The others keep their edits staged, and rendering them
    /// re-parses only the element that holds those edits
    /// ([`Document::check_len`]). That is much less than a whole parse when
    /// the edits are small and the text is the node's own: a node's port
    /// offset, set last in a carbon.xml that is otherwise the same on every
    /// node. Edits that span the document (a host name uncommented beside
    /// the root's other children) are settled, through the tree cache, which
    /// parses a text that every node shares only twice in all, where each
    /// node's render would parse it whole.
    ///
    /// # Errors
    /// When a settled document would not parse.
    pub(crate) fn settle_where(&mut self, read: impl Fn(&Path) -> bool) -> Result<()> {
        for (rel, loaded) in &mut self.files {
            if let Loaded::Xml { doc, .. } = loaded {
                if !read(rel) && doc.check_len() <= doc.text().len() / SMALL_CHECK {
                    continue;
                }
                doc.apply()
                    .map_err(|e| e.with_path(self.home.path().join(rel)))?;
            }
        }
        Ok(())
    }

    /// The loaded document at `rel`, if it has no staged edits (see
    /// [`Session::settle`]): what the session would write, already parsed.
    pub(crate) fn settled_document(&self, rel: &Path) -> Option<&Document> {
        match self.files.get(rel) {
            Some(Loaded::Xml { doc, .. }) if !doc.has_edits() => Some(doc),
            _ => None,
        }
    }

    /// The files the session has loaded or staged, relative to the home.
    pub fn staged_paths(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    /// Every file whose bytes would change, with before and after.
    ///
    /// # Errors
    /// When an edited document would not parse or cannot be encoded.
    pub fn changes(&self) -> Result<Vec<FileChange>> {
        let mut changes = Vec::new();
        for (path, loaded) in &self.files {
            let (before, after) = match loaded {
                // Opened and never edited: it renders to its own bytes.
                Loaded::Xml { doc, .. } if doc.is_pristine() => continue,
                Loaded::Xml { original, doc } => (
                    Some(original.clone()),
                    doc.render()
                        .map_err(|e| e.with_path(self.home.path().join(path)))?,
                ),
                Loaded::Text { original, text } => {
                    let text = self
                        .deployment_rendered(path)
                        .unwrap_or_else(|| text.clone());
                    (Some(original.clone()), text.into_bytes())
                }
                Loaded::Bytes { original, bytes } => (original.clone(), bytes.clone()),
            };
            let read_from = self.objects.get(path).copied();
            changes.extend(FileChange::between(path.clone(), before, after, read_from));
        }
        refuse_one_file_twice(&changes)?;
        Ok(changes)
    }

    /// As [`Session::changes`], consuming the session: each file's original
    /// bytes and each document's text are handed over, not copied (for a
    /// large file, two copies fewer of its size, and their page faults).
    ///
    /// # Errors
    /// As [`Session::changes`].
    pub fn into_changes(self) -> Result<Vec<FileChange>> {
        let mut changes = Vec::new();
        let home = self.home;
        let deployment = self.deployment_rendered(Path::new(crate::deployment::FILE));
        for (path, loaded) in self.files {
            let (before, after) = match loaded {
                Loaded::Xml { doc, .. } if doc.is_pristine() => continue,
                Loaded::Xml { original, doc } => (
                    Some(original),
                    doc.into_rendered()
                        .map_err(|e| e.with_path(home.path().join(&path)))?,
                ),
                Loaded::Text { original, text } => {
                    let text = match &deployment {
                        Some(rendered) if path == Path::new(crate::deployment::FILE) => {
                            rendered.clone()
                        }
                        _ => text,
                    };
                    (Some(original), text.into_bytes())
                }
                Loaded::Bytes { original, bytes } => (original, bytes),
            };
            let read_from = self.objects.get(&path).copied();
            changes.extend(FileChange::between(path, before, after, read_from));
        }
        refuse_one_file_twice(&changes)?;
        Ok(changes)
    }
}

/// Refuses changes that write one file by two paths (a link to it): each
/// path's edits were made on its own copy, and the second write would undo
/// the first's.
fn refuse_one_file_twice(changes: &[FileChange]) -> Result<()> {
    let mut seen: std::collections::HashMap<(u64, u64), &Path> = Default::default();
    for change in changes {
        let Some(object) = &change.read_from else {
            continue; // a file the plan creates
        };
        if let Some(first) = seen.insert((object.dev, object.ino), &change.path) {
            return Err(Error::SameFile {
                first: first.to_path_buf(),
                second: change.path.clone(),
            });
        }
    }
    Ok(())
}
