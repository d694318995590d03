//! A product's home directory (`CARBON_HOME`): what it is, and where its files are.
//!
//! Opening a home checks that it is a Carbon 4.x product, reads its name and
//! version, and tells the two configuration models apart. In the 4.5+ model
//! (API Manager 3.x) the XML files are generated from `deployment.toml` at
//! every start, so the operations refuse to edit them: the edit would be
//! silently lost on the next restart.
//!
//! Every path an operation names is relative to the home and must stay in
//! it: absolute paths and `..` are refused as written, and every file is
//! reached through the home's [`beneath::Root`], which refuses a symbolic
//! link that leads out at the moment it is met.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// How a home is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigModel {
    /// Carbon 4.0 to 4.4: the XML files under repository/conf are the configuration.
    Xml,
    /// Carbon 4.5+: repository/conf/deployment.toml, rendered into the XML
    /// through repository/resources/conf/templates at every start.
    DeploymentToml,
}

/// An opened product home.
#[derive(Clone, Debug)]
pub struct CarbonHome {
    root: beneath::Root,
    product: Option<String>,
    version: Option<String>,
    model: ConfigModel,
}

/// Configuration files the operations know, relative to the home.
pub mod files {
    /// Axis2: clustering.
    pub const AXIS2: &str = "repository/conf/axis2/axis2.xml";
    /// Server: ports, host names, deployment synchronizer.
    pub const CARBON: &str = "repository/conf/carbon.xml";
    /// Registry: databases, remote instances, mounts.
    pub const REGISTRY: &str = "repository/conf/registry.xml";
    /// User store.
    pub const USER_MGT: &str = "repository/conf/user-mgt.xml";
    /// Tomcat connectors.
    pub const CATALINA: &str = "repository/conf/tomcat/catalina-server.xml";
    /// Identity Server: the identity database.
    pub const IDENTITY: &str = "repository/conf/identity/identity.xml";
    /// API Manager (1.9 to 2.x): gateways, key manager, throttling, analytics.
    pub const API_MANAGER: &str = "repository/conf/api-manager.xml";
    /// Event processor modes (CEP, DAS).
    pub const EVENT_PROCESSOR: &str = "repository/conf/event-processor.xml";
    /// Spark settings (DAS).
    pub const SPARK_DEFAULTS: &str = "repository/conf/analytics/spark/spark-defaults.conf";
    /// The folder of datasource files.
    pub const DATASOURCES_DIR: &str = "repository/conf/datasources";
    /// The folder JDBC drivers go to.
    pub const LIB_DIR: &str = "repository/components/lib";
    /// carbon-patch's own folder (its lock, journal, staged files and
    /// backups): no path of the home's may lead into it.
    pub const OWN_DIR: &str = ".carbon-patch";
}

/// Directories that are never a Carbon home: the root, the top-level system
/// directories, and anything under /etc, /boot, /usr (but /usr/local) or
/// the kernel's virtual file systems (but the /dev/shm tmpfs, where test
/// homes may live).
fn is_system_dir(canonical: &Path) -> bool {
    const TOP: &[&str] = &[
        "/", "/bin", "/boot", "/dev", "/dev/shm", "/etc", "/home", "/lib", "/lib32", "/lib64",
        "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
    ];
    let under = |dir: &str| canonical.starts_with(dir);
    TOP.iter().any(|dir| canonical == Path::new(dir))
        || ["/proc", "/sys", "/etc", "/boot"].into_iter().any(under)
        || under("/dev") && !under("/dev/shm")
        || under("/usr") && !under("/usr/local")
}

impl CarbonHome {
    /// Opens the home at `path`.
    ///
    /// # Errors
    /// [`Error::NotCarbonHome`] when `path` has no `repository/conf` holding
    /// carbon.xml or axis2/axis2.xml.
    pub fn open(path: impl AsRef<Path>) -> Result<CarbonHome> {
        let path = path.as_ref();
        let not_home = |reason: &str| Error::NotCarbonHome {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        match path.metadata() {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(not_home("a file, not a directory")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(not_home("no such directory"))
            }
            Err(e) => return Err(not_home(&format!("cannot read it: {e}"))),
        }
        let root = beneath::Root::open_hiding(path, &[files::OWN_DIR])?;
        crate::controlled::check(path, &root.top().meta()?)?;
        // A home given as (or through a symlink to) a system directory is a
        // mistake or an attack; nothing there is ever a Carbon home.
        if is_system_dir(root.real_path()) {
            return Err(not_home(&format!(
                "resolves to the system directory {}; refusing to treat it as a Carbon home",
                root.real_path().display()
            )));
        }
        let kind = |rel: &str| -> Result<Option<beneath::Kind>> {
            Ok(root.metadata(rel)?.map(|meta| meta.kind))
        };
        if kind("repository/conf")? != Some(beneath::Kind::Folder) {
            return Err(not_home(&match home_inside(path) {
                Some(inner) => format!(
                    "expected a repository/conf directory; did you mean {}?",
                    inner.display()
                ),
                None => "expected a repository/conf directory".to_string(),
            }));
        }
        let file = Some(beneath::Kind::File);
        // A 4.5+ home may have no XML before its first start: deployment.toml
        // and the templates are what make it a home.
        let regenerated = kind("repository/conf/deployment.toml")? == file
            && kind("repository/resources/conf/templates")? == Some(beneath::Kind::Folder);
        if !regenerated
            && kind(files::CARBON)? != file
            && kind("repository/conf/axis2/axis2.xml")? != file
        {
            return Err(not_home(
                "expected repository/conf/carbon.xml, repository/conf/axis2/axis2.xml or (Carbon 4.5+) repository/conf/deployment.toml",
            ));
        }
        let model = if regenerated {
            ConfigModel::DeploymentToml
        } else {
            ConfigModel::Xml
        };
        let (product, version) = identify(&root)?;
        Ok(CarbonHome {
            root,
            product,
            version,
            model,
        })
    }

    /// The home as given.
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// The handle every file of the home is reached through.
    pub fn root(&self) -> &beneath::Root {
        &self.root
    }

    /// Whether `rel` is a regular file (through links that stay in the home).
    ///
    /// # Errors
    /// A link that leads out of the home, or a file that cannot be looked at.
    pub fn is_file(&self, rel: impl AsRef<Path>) -> Result<bool> {
        let meta = self.root.metadata(rel)?;
        Ok(meta.is_some_and(|meta| meta.kind == beneath::Kind::File))
    }

    /// The product name (`WSO2 Message Broker`), if known.
    pub fn product(&self) -> Option<&str> {
        self.product.as_deref()
    }

    /// The product version (`3.2.0`), if known.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// How the home is configured.
    pub fn model(&self) -> ConfigModel {
        self.model
    }

    /// The configuration files present, relative to the home, sorted:
    /// the known ones and every `*-datasources.xml`.
    pub fn conf_files(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = [
            files::AXIS2,
            files::CARBON,
            files::REGISTRY,
            files::USER_MGT,
            files::CATALINA,
            files::EVENT_PROCESSOR,
            files::SPARK_DEFAULTS,
        ]
        .iter()
        .map(PathBuf::from)
        .filter(|rel| self.is_file(rel).unwrap_or(false))
        .collect();
        found.extend(self.datasource_files());
        found.sort();
        found
    }

    /// The `*-datasources.xml` files in `repository/conf/datasources`,
    /// relative to the home, sorted: one directory listing, where
    /// [`CarbonHome::conf_files`] also asks after each known file (a `statx`
    /// each, which a fleet's validation paid on every node for files it
    /// never read).
    pub fn datasource_files(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if let Ok(Some(entries)) = self.root.read_dir(files::DATASOURCES_DIR) {
            for entry in entries {
                let name = entry.name.to_string_lossy().into_owned();
                if name.ends_with("-datasources.xml") {
                    found.push(Path::new(files::DATASOURCES_DIR).join(name));
                }
            }
        }
        found.sort();
        found
    }

    /// The full path of `rel` (for messages), checked to stay inside the
    /// home: as written, and through the links its folders pass (the file
    /// itself need not exist).
    ///
    /// # Errors
    /// [`Error::OutsideHome`] for an absolute path, a `..` component, or a
    /// path whose existing part leads (through symlinks) outside the home.
    pub fn resolve(&self, rel: impl AsRef<Path>) -> Result<PathBuf> {
        let rel = rel.as_ref();
        check_relative(rel)?;
        match self.root.locate(rel) {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self.root.display_path(rel))
    }
}

/// Refuses what no operation may name: an empty path, an absolute one, one
/// with `..`.
pub(crate) fn check_relative(rel: &Path) -> Result<()> {
    let refuse = |reason: &str| Error::OutsideHome {
        path: rel.to_path_buf(),
        reason: reason.to_string(),
    };
    if rel.as_os_str().is_empty() {
        return Err(refuse("an empty path names no file"));
    }
    for component in rel.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(refuse("paths may not contain '..'")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse("paths must be relative to the home"))
            }
        }
    }
    Ok(())
}

/// The one folder directly inside `dir` that holds a `repository/conf`:
/// the home itself, when `dir` is where its archive was unpacked.
fn home_inside(dir: &Path) -> Option<PathBuf> {
    let mut homes = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("repository/conf").is_dir());
    let home = homes.next()?;
    homes.next().is_none().then_some(home)
}

/// The most `bin/version.txt` may hold: one line naming the product.
const VERSION_TXT_LIMIT: u64 = 4096;

/// Product name and version: `bin/version.txt` ("WSO2 Message Broker v3.2.0"),
/// else carbon.xml's `Name` and `Version` (unless they are build placeholders).
///
/// # Errors
/// Either file there but not a readable regular file (a FIFO, a link out).
fn identify(root: &beneath::Root) -> Result<(Option<String>, Option<String>)> {
    let version_txt = root
        .read("bin/version.txt", VERSION_TXT_LIMIT)?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if let Some(line) = version_txt {
        let line = line.trim();
        if let Some((name, version)) = line.rsplit_once(" v") {
            return Ok((
                Some(name.trim().to_string()),
                Some(version.trim().to_string()),
            ));
        }
        if !line.is_empty() {
            return Ok((Some(line.to_string()), None));
        }
    }
    let Some(bytes) = root.read(files::CARBON, crate::DEFAULT_MAX_FILE_SIZE)? else {
        return Ok((None, None));
    };
    let Ok(doc) = xmlsplice::Document::parse(bytes) else {
        return Ok((None, None));
    };
    let read = |name: &str| {
        doc.select_optional(name)
            .ok()
            .flatten()
            .and_then(|el| doc.element_text(el))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && !t.contains("${"))
    };
    Ok((read("Name"), read("Version")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/homes")
            .join(name)
    }

    #[test]
    fn opens_a_4_4_home_and_reads_its_product() {
        let home = CarbonHome::open(fixture("carbon-4.4")).unwrap();
        assert_eq!(home.product(), Some("WSO2 Example Server"));
        assert_eq!(home.version(), Some("4.4.0"));
        assert_eq!(home.model(), ConfigModel::Xml);
        let files: Vec<String> = home
            .conf_files()
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert!(files.contains(&files::AXIS2.to_string()));
        assert!(files.contains(&"repository/conf/datasources/master-datasources.xml".to_string()));
        let datasources = home.datasource_files();
        assert_eq!(
            datasources,
            files
                .iter()
                .filter(|f| f.starts_with(files::DATASOURCES_DIR))
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        );
        assert!(!datasources.is_empty());
    }

    #[test]
    fn detects_the_deployment_toml_model() {
        let home = CarbonHome::open(fixture("carbon-4.5")).unwrap();
        assert_eq!(home.model(), ConfigModel::DeploymentToml);
    }

    #[test]
    fn refuses_what_is_not_a_home() {
        let err = CarbonHome::open(fixture("")).unwrap_err().to_string();
        assert!(
            err.ends_with("not a WSO2 Carbon home: expected a repository/conf directory"),
            "{err}"
        );
        let err = CarbonHome::open(fixture("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("no such directory"), "{err}");
        let err = CarbonHome::open(fixture("carbon-4.4/repository/conf/carbon.xml"))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("a file, not a directory"), "{err}");
    }

    #[test]
    fn the_folder_an_archive_was_unpacked_in_points_to_the_home() {
        let dir = tempfile::tempdir().unwrap();
        let err = |path: &Path| CarbonHome::open(path).unwrap_err().to_string();
        std::fs::create_dir_all(dir.path().join("wso2mb-3.2.0/repository/conf")).unwrap();
        std::fs::create_dir(dir.path().join("downloads")).unwrap();
        assert_eq!(
            err(dir.path()),
            format!(
                "{}: not a WSO2 Carbon home: expected a repository/conf directory; did you mean {}?",
                dir.path().display(),
                dir.path().join("wso2mb-3.2.0").display()
            )
        );
        // Two homes side by side: no guess.
        std::fs::create_dir_all(dir.path().join("wso2is-5.1.0/repository/conf")).unwrap();
        assert!(
            err(dir.path()).ends_with("expected a repository/conf directory"),
            "{}",
            err(dir.path())
        );
    }

    #[test]
    fn system_directories_are_never_homes() {
        for dir in [
            "/",
            "/etc",
            "/etc/wso2",
            "/usr",
            "/usr/lib/x",
            "/var",
            "/opt",
            "/tmp",
            "/dev/sda",
            "/proc/1",
            "/sys/fs",
            "/boot/grub",
            "/dev/shm",
        ] {
            assert!(is_system_dir(Path::new(dir)), "{dir}");
        }
        for dir in [
            "/opt/wso2mb-1",
            "/usr/local/wso2",
            "/home/u/wso2am",
            "/var/lib/wso2/node1",
            "/tmp/x/node1",
            "/dev/shm/homes/node1",
            "/srv/wso2",
        ] {
            assert!(!is_system_dir(Path::new(dir)), "{dir}");
        }
    }

    #[test]
    fn paths_must_stay_in_the_home() {
        let home = CarbonHome::open(fixture("carbon-4.4")).unwrap();
        assert!(home.resolve(files::AXIS2).is_ok());
        assert!(home.resolve("repository/components/lib/new.jar").is_ok());
        for bad in ["../x", "repository/../../etc/passwd", "/etc/passwd", ""] {
            assert!(
                matches!(home.resolve(bad), Err(Error::OutsideHome { .. })),
                "{bad}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leaving_the_home_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home_dir = dir.path().join("home");
        std::fs::create_dir_all(home_dir.join("repository/conf")).unwrap();
        std::fs::write(home_dir.join("repository/conf/carbon.xml"), "<Server/>").unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("x.xml"), "<x/>").unwrap();
        std::os::unix::fs::symlink(&outside, home_dir.join("repository/conf/linked")).unwrap();
        let home = CarbonHome::open(&home_dir).unwrap();
        let err = home.resolve("repository/conf/linked/x.xml").unwrap_err();
        assert!(matches!(err, Error::OutsideHome { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!(
                "the symbolic link {} leads to {}, outside",
                home_dir.join("repository/conf/linked").display(),
                outside.display()
            )),
            "{err}"
        );
        assert!(home.resolve("repository/conf/linked/new.xml").is_err());
    }
}
