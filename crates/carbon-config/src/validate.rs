//! Checks across the files of a home, on the state a session would write.
//!
//! The files of a home refer to each other: a registry dbConfig and the user
//! store name JNDI datasources that a datasources file must define, a mount
//! names a remote instance, which names a dbConfig. A broken reference stops
//! the server at start-up, or worse, makes it use its embedded H2
//! database. These rules run on the files as the session would write them,
//! so a plan that repairs a broken home passes. A fresh session checks the
//! home as it is.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use xmlsplice::{Document, Element, TextPos};

use crate::dictionary::Dictionary;
use crate::error::{Error, Result};
use crate::home::files;
use crate::session::{FileChange, Session};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a look; the plan may still be applied.
    Warning,
    /// The home would not work as configured; nothing may be written.
    Error,
}

impl Severity {
    /// Its name as findings print it: `error`, `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The file it is about, relative to the home.
    pub file: PathBuf,
    /// Where in that file: the start of the element it is about, in the
    /// file as the plan would leave it (the new side of its diff; the file
    /// as it is when nothing changes it).
    pub at: Option<TextPos>,
    /// What is wrong, and what would fix it.
    pub message: String,
}

/// One line, `severity: file:line:column: message`, with control characters
/// escaped ([`visible`]): the file's name and the values a message quotes
/// come from the home, and may hold a line break or an escape sequence.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = visible::path(&self.file);
        write!(f, "{}: {file}", self.severity.as_str())?;
        if let Some(at) = self.at {
            write!(f, ":{at}")?;
        }
        write!(f, ": {}", visible::line(&self.message))
    }
}

/// An active datasource, as a datasources file defines it.
struct DatasourceInfo {
    /// Which of the parsed datasources files defines it.
    doc: usize,
    /// Its `<datasource>` element.
    element: Element,
    name: String,
    jndi: Option<String>,
    /// Its driverClassName: the element and the class.
    driver: Option<(Element, String)>,
}

/// The jar-name fragments that hold each driver family.
const DRIVER_JARS: &[(&str, &[&str])] = &[
    ("com.mysql.", &["mysql-connector"]),
    ("org.mariadb.", &["mariadb-java-client"]),
    ("org.postgresql.", &["postgresql"]),
    ("oracle.jdbc", &["ojdbc"]),
    ("com.microsoft.sqlserver.", &["mssql-jdbc", "sqljdbc"]),
    ("com.ibm.db2.", &["db2jcc"]),
];

/// A document as the session would write it: the session's own when it is
/// settled, else parsed from what it would write.
enum Doc<'s> {
    Settled(&'s Document),
    Parsed(Box<Document>),
}

impl std::ops::Deref for Doc<'_> {
    type Target = Document;
    fn deref(&self) -> &Document {
        match self {
            Doc::Settled(doc) => doc,
            Doc::Parsed(doc) => doc,
        }
    }
}

fn parse<'s>(session: &'s Session, rel: &Path) -> Result<Option<Doc<'s>>> {
    if let Some(doc) = session.settled_document(rel) {
        return Ok(Some(Doc::Settled(doc)));
    }
    match session.current(rel)? {
        Some(bytes) => {
            Ok(Some(Doc::Parsed(Box::new(session.parse(&bytes).map_err(
                |e| e.with_path(session.home().path().join(rel)),
            )?))))
        }
        None => Ok(None),
    }
}

/// The elements `path` selects, each with its trimmed text.
fn texts(doc: &Document, path: &str) -> Vec<(Element, String)> {
    doc.select(path)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| Some((e, doc.element_text(e)?.trim().to_string())))
        .collect()
}

/// The element `path` selects under `context`, with its trimmed text.
fn element_in(doc: &Document, context: Element, path: &str) -> Option<(Element, String)> {
    let element = doc.select_optional((context, path)).ok().flatten()?;
    Some((element, doc.element_text(element)?.trim().to_string()))
}

/// The trimmed text of the element `path` selects under `context`.
fn text_in(doc: &Document, context: Element, path: &str) -> Option<String> {
    element_in(doc, context, path).map(|(_, text)| text)
}

/// The findings of one run of the rules. Positions are worked out only for
/// the findings made (each counts the lines before it), not for every
/// element a rule reads.
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        severity: Severity,
        file: &Path,
        doc: &Document,
        at: Element,
        message: String,
    ) {
        self.0.push(Finding {
            severity,
            file: file.to_path_buf(),
            at: Some(doc.position(at)),
            message,
        });
    }

    fn error(&mut self, file: &str, doc: &Document, at: Element, message: String) {
        self.add(Severity::Error, Path::new(file), doc, at, message);
    }

    /// Errors first, then warnings; each by file, then place.
    fn sorted(self) -> Vec<Finding> {
        let mut findings = self.0;
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.at.cmp(&b.at))
        });
        findings
    }
}

/// Whether [`validate`] parses the file at `rel` (relative to the home).
/// Only an answer of speed: a file the rules read without it being settled
/// is rendered and parsed where they read it.
fn read_by_rules(rel: &Path) -> bool {
    rel.starts_with(files::DATASOURCES_DIR)
        || [files::REGISTRY, files::USER_MGT, files::AXIS2]
            .iter()
            .any(|file| rel == Path::new(file))
}

/// Runs every rule on the state `session` would write: errors first, then
/// warnings, each group by file and place.
pub fn validate(session: &Session) -> Result<Vec<Finding>> {
    let mut findings = Findings::default();
    let datasource_files = datasource_files(session)?;
    let datasources = datasources(&datasource_files);
    let by_jndi = by_jndi(&datasources);
    jndi_names_are_unique(&datasource_files, &by_jndi, &mut findings);
    // The JNDI names the rules below see used, for the unused-datasource rule.
    // Sets, here and below: the home's owner may list thousands of each.
    let mut referenced: HashSet<String> = HashSet::new();
    if let Some(doc) = parse(session, Path::new(files::REGISTRY))? {
        registry_datasources_are_defined(&doc, &by_jndi, &mut referenced, &mut findings);
        let db_names = db_config_names(&doc);
        current_db_config_exists(&doc, &db_names, &mut findings);
        remote_instance_db_configs_exist(&doc, &db_names, &mut findings);
        mounts_name_a_remote_instance(&doc, &mut findings);
    }
    if let Some(doc) = parse(session, Path::new(files::USER_MGT))? {
        user_store_datasources_are_defined(&doc, &by_jndi, &mut referenced, &mut findings);
    }
    if let Some(doc) = parse(session, Path::new(files::AXIS2))? {
        wka_lists_members(&doc, &mut findings);
    }
    let jars = driver_jars_present(&lib_file_names(session));
    let names = unseen(&datasources, &referenced);
    let mentioned = if names.iter().map(|n| n.len()).sum::<usize>() > UNSEEN_NAMES_LIMIT {
        findings.0.push(Finding {
            severity: Severity::Warning,
            file: PathBuf::from(files::DATASOURCES_DIR),
            at: None,
            message: format!(
                "the names of the datasources no rule saw used hold over {UNSEEN_NAMES_LIMIT} \
                 bytes in all: they were not looked for in the other configuration files, and \
                 none is reported as not referenced"
            ),
        });
        names.into_iter().collect()
    } else {
        mentioned_in_other_conf(session, names)?
    };
    for ds in &datasources {
        let (file, doc) = &datasource_files[ds.doc];
        drivers_have_their_jar(file, doc, ds, &jars, &mut findings);
        datasources_are_used(file, doc, ds, &referenced, &mentioned, &mut findings);
    }
    Ok(findings.sorted())
}

/// Every *-datasources.xml in the folder (the operations create none), as
/// the session would write it. They are held parsed together, so they are
/// bounded together: at most the file-size limit in all, else a folder of
/// many large files (or many names of one) takes memory without end.
fn datasource_files<'s>(session: &'s Session) -> Result<Vec<(PathBuf, Doc<'s>)>> {
    let limit = session.max_file_size();
    let mut total = 0u64;
    let mut parsed = Vec::new();
    for rel in session.home().datasource_files() {
        if let Some(doc) = parse(session, &rel)? {
            datasources_within(session.home(), &mut total, doc.text().len(), limit)?;
            parsed.push((rel, doc));
        }
    }
    Ok(parsed)
}

/// Adds a datasources file of `len` bytes to the `total` read from
/// `home`'s, refusing the folder once they hold over `limit` bytes in all.
pub(crate) fn datasources_within(
    home: &crate::CarbonHome,
    total: &mut u64,
    len: usize,
    limit: u64,
) -> Result<()> {
    *total += len as u64;
    if *total > limit {
        return Err(Error::Invalid {
            file: home.path().join(crate::home::files::DATASOURCES_DIR),
            message: format!(
                "its *-datasources.xml files hold over {limit} bytes in all, the limit for a file \
                 (raise it with --max-file-size)"
            ),
        });
    }
    Ok(())
}

/// The datasources `files` define, file by file, in document order.
fn datasources(files: &[(PathBuf, Doc)]) -> Vec<DatasourceInfo> {
    let mut datasources = Vec::new();
    for (index, (_, doc)) in files.iter().enumerate() {
        for ds in doc.select("datasources/datasource").unwrap_or_default() {
            datasources.push(DatasourceInfo {
                doc: index,
                element: ds,
                name: text_in(doc, ds, "name").unwrap_or_default(),
                jndi: text_in(doc, ds, "jndiConfig/name").filter(|j| !j.is_empty()),
                driver: element_in(doc, ds, "definition/configuration/driverClassName"),
            });
        }
    }
    datasources
}

/// The datasources that have a JNDI name, by that name.
type ByJndi<'d> = BTreeMap<&'d str, Vec<&'d DatasourceInfo>>;

fn by_jndi(datasources: &[DatasourceInfo]) -> ByJndi<'_> {
    let mut by_jndi = ByJndi::new();
    for ds in datasources {
        if let Some(jndi) = &ds.jndi {
            by_jndi.entry(jndi).or_default().push(ds);
        }
    }
    by_jndi
}

/// Error: a JNDI name defined by more than one active datasource. Only one
/// can be bound under it, so what looks it up may get either. Reported at
/// the second definition.
fn jndi_names_are_unique(
    datasource_files: &[(PathBuf, Doc)],
    by_jndi: &ByJndi,
    findings: &mut Findings,
) {
    for (jndi, defs) in by_jndi {
        if defs.len() > 1 {
            let names: Vec<String> = defs
                .iter()
                .map(|d| format!("{} in {}", d.name, datasource_files[d.doc].0.display()))
                .collect();
            let (file, doc) = &datasource_files[defs[1].doc];
            findings.add(
                Severity::Error,
                file,
                doc,
                defs[1].element,
                format!(
                    "JNDI name {jndi} is defined by {} active datasources: {}",
                    defs.len(),
                    names.join(", ")
                ),
            );
        }
    }
}

/// Error: a registry `dbConfig` whose `dataSource` no active datasource
/// defines: the registry has no database. Records the names it sees used.
fn registry_datasources_are_defined(
    doc: &Document,
    by_jndi: &ByJndi,
    referenced: &mut HashSet<String>,
    findings: &mut Findings,
) {
    for db in doc.select("dbConfig").unwrap_or_default() {
        let name = doc.attribute(db, "name").unwrap_or("");
        if let Some((source, jndi)) = element_in(doc, db, "dataSource") {
            if !by_jndi.contains_key(jndi.as_str()) {
                findings.error(
                    files::REGISTRY,
                    doc,
                    source,
                    format!(
                        "dbConfig {name} uses dataSource {jndi}, which no active datasource defines"
                    ),
                );
            }
            referenced.insert(jndi);
        }
    }
}

/// The names of the registry's `dbConfig`s (empty for one without).
fn db_config_names(doc: &Document) -> HashSet<String> {
    doc.select("dbConfig")
        .unwrap_or_default()
        .into_iter()
        .map(|db| doc.attribute(db, "name").unwrap_or("").to_string())
        .collect()
}

/// Error: a `currentDBConfig` that names no `dbConfig`: the registry has no
/// database configuration to run on.
fn current_db_config_exists(doc: &Document, db_names: &HashSet<String>, findings: &mut Findings) {
    for (element, current) in texts(doc, "currentDBConfig") {
        if !db_names.contains(&current) {
            findings.error(
                files::REGISTRY,
                doc,
                element,
                format!("currentDBConfig names {current}, but no dbConfig has that name"),
            );
        }
    }
}

/// Error: a `remoteInstance` whose `dbConfig` does not exist: the mounts
/// on it cannot reach the shared registry.
fn remote_instance_db_configs_exist(
    doc: &Document,
    db_names: &HashSet<String>,
    findings: &mut Findings,
) {
    for remote in doc.select("remoteInstance").unwrap_or_default() {
        let id = text_in(doc, remote, "id").unwrap_or_default();
        if let Some((element, db)) = element_in(doc, remote, "dbConfig") {
            if !db_names.contains(&db) {
                findings.error(
                    files::REGISTRY,
                    doc,
                    element,
                    format!("remoteInstance {id} uses dbConfig {db}, which does not exist"),
                );
            }
        }
    }
}

/// Error: a `mount` whose `instanceId` (none counts as empty) names no
/// `remoteInstance`: the path cannot be mounted from the shared registry.
/// Reported at the `instanceId`, or at the mount that has none.
fn mounts_name_a_remote_instance(doc: &Document, findings: &mut Findings) {
    let instance_ids: HashSet<String> = doc
        .select("remoteInstance")
        .unwrap_or_default()
        .into_iter()
        .map(|remote| text_in(doc, remote, "id").unwrap_or_default())
        .collect();
    for mount in doc.select("mount").unwrap_or_default() {
        let path = doc.attribute(mount, "path").unwrap_or("");
        let (element, instance) =
            element_in(doc, mount, "instanceId").unwrap_or((mount, String::new()));
        if !instance_ids.contains(&instance) {
            findings.error(
                files::REGISTRY,
                doc,
                element,
                format!(
                    "mount {path} uses instanceId {instance}, but no remoteInstance has that id"
                ),
            );
        }
    }
}

/// Error: a `dataSource` property of the realm or of a user store manager
/// that no active datasource defines: the user store has no database.
/// Records the names it sees used.
fn user_store_datasources_are_defined(
    doc: &Document,
    by_jndi: &ByJndi,
    referenced: &mut HashSet<String>,
    findings: &mut Findings,
) {
    for path in [
        "Realm/Configuration/Property[@name='dataSource']",
        "Realm/UserStoreManager/Property[@name='dataSource']",
    ] {
        for (element, jndi) in texts(doc, path) {
            if !by_jndi.contains_key(jndi.as_str()) {
                findings.error(
                    files::USER_MGT,
                    doc,
                    element,
                    format!(
                        "the user store uses dataSource {jndi}, which no active datasource defines"
                    ),
                );
            }
            referenced.insert(jndi);
        }
    }
}

/// Error: axis2.xml's membership scheme is `wka` but `<members>` lists no
/// member: a node with no well-known member to contact never joins the
/// cluster.
fn wka_lists_members(doc: &Document, findings: &mut Findings) {
    let wka = texts(doc, "clustering/parameter[@name='membershipScheme']")
        .into_iter()
        .find(|(_, scheme)| scheme == "wka");
    let members = doc.select("clustering/members/member").unwrap_or_default();
    if let Some((scheme, _)) = wka.filter(|_| members.is_empty()) {
        findings.error(
            files::AXIS2,
            doc,
            scheme,
            "membershipScheme is wka but <members> lists no member".into(),
        );
    }
}

/// The names of the datasources no rule saw referenced (the JNDI name and
/// the datasource's name), to search for in the other configuration files.
fn unseen<'d>(datasources: &'d [DatasourceInfo], referenced: &HashSet<String>) -> Vec<&'d str> {
    let mut unseen = Vec::new();
    for ds in datasources {
        match &ds.jndi {
            Some(jndi) if referenced.contains(jndi) => {}
            Some(jndi) => unseen.extend([jndi.as_str(), ds.name.as_str()]),
            None => unseen.push(ds.name.as_str()),
        }
    }
    unseen
}

/// Warning: a datasource whose driver class is of a known family, with no
/// jar of that family in repository/components/lib: the datasource cannot
/// load its driver. A warning, since a jar of another name may hold it.
fn drivers_have_their_jar(
    file: &Path,
    doc: &Document,
    ds: &DatasourceInfo,
    present: &[bool],
    findings: &mut Findings,
) {
    let Some((element, driver)) = &ds.driver else {
        return;
    };
    let Some(family) = DRIVER_JARS
        .iter()
        .position(|(prefix, _)| driver.starts_with(prefix))
    else {
        return;
    };
    let jars = DRIVER_JARS[family].1;
    if !present[family] {
        findings.add(
            Severity::Warning,
            file,
            doc,
            *element,
            format!(
                "datasource {} uses {driver}, but {} holds no {} jar",
                ds.name,
                files::LIB_DIR,
                jars.join(" or ")
            ),
        );
    }
}

/// Warning: a datasource that no rule saw referenced and whose JNDI name
/// and name no other configuration file mentions: often a name misspelt
/// where it should be used. A warning, since a component may name it
/// somewhere not searched.
fn datasources_are_used(
    file: &Path,
    doc: &Document,
    ds: &DatasourceInfo,
    referenced: &HashSet<String>,
    mentioned: &BTreeSet<&str>,
    findings: &mut Findings,
) {
    let used = ds
        .jndi
        .as_ref()
        .is_some_and(|j| referenced.contains(j) || mentioned.contains(j.as_str()))
        || mentioned.contains(ds.name.as_str());
    if !used {
        findings.add(
            Severity::Warning,
            file,
            doc,
            ds.element,
            format!(
                "datasource {} ({}) is not referenced by any configuration file",
                ds.name,
                ds.jndi.as_deref().unwrap_or("no JNDI name")
            ),
        );
    }
}

/// For each family of [`DRIVER_JARS`], whether one of `lib_names` is its
/// jar: worked out once, not for each datasource (the home's owner may
/// write thousands of each).
fn driver_jars_present(lib_names: &[String]) -> Vec<bool> {
    DRIVER_JARS
        .iter()
        .map(|(_, jars)| lib_names.iter().any(|n| jars.iter().any(|j| n.contains(j))))
        .collect()
}

/// File names in repository/components/lib, staged copies included.
fn lib_file_names(session: &Session) -> Vec<String> {
    let mut names: Vec<String> = session
        .home()
        .root()
        .read_dir(files::LIB_DIR)
        .ok()
        .flatten()
        .map(|entries| {
            entries
                .into_iter()
                .map(|e| e.name.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for path in session.staged_paths() {
        if path.starts_with(files::LIB_DIR) {
            if let Some(name) = path.file_name() {
                names.push(name.to_string_lossy().into_owned());
            }
        }
    }
    names
}

/// The most bytes of datasource names [`mentioned_in_other_conf`] looks
/// for: its automaton takes many times their size, and building it is slow
/// for names of random bytes (a trie that branches at every byte, its links
/// all over memory). A product's datasources' names hold a few hundred
/// bytes; the home's owner could give the datasources files the whole
/// file-size limit of them.
const UNSEEN_NAMES_LIMIT: usize = 1 << 20;

/// Which of `names` appear in an XML file under repository/conf other than
/// the datasources files (as the session would write them): where other
/// components (api-manager.xml, identity.xml, ...) name datasources. A few
/// names are each looked for with memchr's vectorised search, many all at
/// once with a [`Dictionary`], which steps through each byte (far slower a
/// byte than one vectorised search, linear in the names). Stops reading
/// files once every name is found.
fn mentioned_in_other_conf<'n>(
    session: &Session,
    names: Vec<&'n str>,
) -> Result<BTreeSet<&'n str>> {
    /// Up to how many names are each looked for alone.
    const FEW: usize = 16;
    if names.is_empty() {
        return Ok(BTreeSet::new());
    }
    if names.len() <= FEW {
        let mut found = BTreeSet::new();
        let mut pending = names;
        other_conf_files(session, |bytes| {
            pending.retain(|name| {
                let seen = memchr::memmem::find(bytes, name.as_bytes()).is_some();
                if seen {
                    found.insert(*name);
                }
                !seen
            });
            pending.is_empty()
        })?;
        return Ok(found);
    }
    let dictionary = Dictionary::new(&names);
    let mut found = dictionary.no_state_found();
    other_conf_files(session, |bytes| {
        dictionary.mark_found(bytes, &mut found);
        found.all(&dictionary)
    })?;
    Ok(names
        .iter()
        .enumerate()
        .filter(|&(index, _)| found.contains(&dictionary, index))
        .map(|(_, name)| *name)
        .collect())
}

/// Hands `read` each XML file under repository/conf but the datasources
/// folder, as the session would write it, until it says it is done.
fn other_conf_files(session: &Session, mut read: impl FnMut(&[u8]) -> bool) -> Result<()> {
    let mut stack = vec![PathBuf::from("repository/conf")];
    while let Some(dir) = stack.pop() {
        let Ok(Some(entries)) = session.home().root().read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let rel = dir.join(&entry.name);
            // The entry's own type: a link to a folder is not followed, so
            // no folder is listed twice.
            if entry.is_dir {
                if !rel.ends_with("datasources") {
                    stack.push(rel);
                }
            } else if rel.extension().is_some_and(|e| e == "xml") {
                if let Some(bytes) = session.current(&rel)? {
                    if read(&bytes) {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Settles (re-parses) every edited document the rules read, once: after
/// that, rendering it and reading it for the rules cost no parse at all,
/// where each would otherwise check the edits with a parse of its own (a
/// fleet plans thousands of documents). The others are only rendered,
/// which re-parses just the element their last edits touched, unless that
/// is much of the file (`Session::settle_where`). [`checked_changes`] does
/// this first.
///
/// # Errors
/// When a settled document would not parse.
pub(crate) fn settle_for_rules(session: &mut Session) -> Result<()> {
    session.settle_where(read_by_rules)
}

/// The session's changes, if no rule finds an error; with the warnings.
/// Consumes the session, whose files' bytes become the changes' (no copy).
///
/// # Errors
/// [`Error::Validation`] with every finding when any is an error: such a
/// plan must not be written.
pub fn checked_changes(mut session: Session) -> Result<(Vec<FileChange>, Vec<Finding>)> {
    settle_for_rules(&mut session)?;
    let findings = validate(&session)?;
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(Error::Validation(findings));
    }
    Ok((session.into_changes()?, findings))
}
