use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;

/// A tree `root/` with `conf/a.xml` and a folder `outside/` beside it
/// holding `secret.xml`.
fn tree() -> (tempfile::TempDir, Root) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("conf")).unwrap();
    std::fs::write(root.join("conf/a.xml"), "<a/>").unwrap();
    std::fs::create_dir(dir.path().join("outside")).unwrap();
    std::fs::write(dir.path().join("outside/secret.xml"), "<secret/>").unwrap();
    let opened = Root::open(&root).unwrap();
    (dir, opened)
}

fn read(root: &Root, rel: &str) -> Result<Option<Vec<u8>>> {
    root.read(rel, 1 << 20)
}

#[test]
fn files_are_read_through_links_that_stay_inside() {
    let (_dir, root) = tree();
    let top = root.path();
    symlink("a.xml", top.join("conf/relative.xml")).unwrap();
    symlink(top.join("conf/a.xml"), top.join("conf/absolute.xml")).unwrap();
    symlink("../conf", top.join("conf/again")).unwrap();
    symlink("conf", top.join("folder")).unwrap();
    for rel in [
        "conf/a.xml",
        "conf/relative.xml",
        "conf/absolute.xml",
        "conf/again/again/a.xml",
        "folder/relative.xml",
        "conf/../conf/a.xml",
        "./conf/a.xml",
    ] {
        assert_eq!(read(&root, rel).unwrap().unwrap(), b"<a/>", "{rel}");
    }
    assert_eq!(read(&root, "conf/none.xml").unwrap(), None);
    assert_eq!(read(&root, "none/none.xml").unwrap(), None);
}

#[test]
fn links_that_lead_out_are_refused_with_the_link_named() {
    let (dir, root) = tree();
    let top = root.path();
    let outside = dir.path().join("outside");
    symlink(outside.join("secret.xml"), top.join("conf/abs.xml")).unwrap();
    symlink("../../outside/secret.xml", top.join("conf/rel.xml")).unwrap();
    symlink(&outside, top.join("conf/out")).unwrap();
    let real = root.real_path().to_path_buf();
    for (rel, how) in [
        (
            "conf/abs.xml",
            format!(
                "the symbolic link {} leads to {}, outside {}",
                top.join("conf/abs.xml").display(),
                outside.join("secret.xml").display(),
                real.display()
            ),
        ),
        (
            "conf/out/secret.xml",
            format!(
                "the symbolic link {} leads to {}, outside {}",
                top.join("conf/out").display(),
                outside.display(),
                real.display()
            ),
        ),
        (
            "conf/rel.xml",
            format!(
                "the symbolic link {} leads to ../../outside/secret.xml, outside {}",
                top.join("conf/rel.xml").display(),
                real.display()
            ),
        ),
        (
            "../outside/secret.xml",
            format!("'..' climbs above {}", top.display()),
        ),
    ] {
        let err = read(&root, rel).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: {how}", top.join(rel).display())
        );
        assert!(matches!(err, Error::LeadsOut { .. }), "{rel}");
    }
    // Made through a link out: refused, and nothing made there.
    assert!(matches!(
        root.create_dirs("conf/out/new", 0o755, &mut Vec::new()),
        Err(Error::LeadsOut { .. })
    ));
    assert!(matches!(
        root.locate("conf/abs.xml"),
        Err(Error::LeadsOut { .. })
    ));
    assert!(!outside.join("new").exists());
    assert!(matches!(
        read(&root, "/etc/passwd"),
        Err(Error::NotInside { .. })
    ));
}

#[test]
fn a_loop_of_links_is_refused() {
    let (_dir, root) = tree();
    symlink("b", root.path().join("conf/a")).unwrap();
    symlink("a", root.path().join("conf/b")).unwrap();
    let err = read(&root, "conf/a").unwrap_err();
    assert!(matches!(err, Error::TooManyLinks { .. }), "{err}");
}

#[test]
fn what_is_not_a_regular_file_is_refused_without_waiting() {
    let (_dir, root) = tree();
    let fifo = root.path().join("conf/fifo.xml");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    // A plain open to read would wait here for a writer.
    let err = read(&root, "conf/fifo.xml").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: a FIFO, not a regular file", fifo.display())
    );
    let err = read(&root, "conf").unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAFile {
                kind: Kind::Folder,
                ..
            }
        ),
        "{err}"
    );
    let err = root.top().open_read("conf").unwrap_err();
    assert!(matches!(err, Error::NotAFile { .. }), "{err}");
}

#[test]
fn a_folder_once_opened_stays_the_folder_acted_on() {
    let (dir, root) = tree();
    let conf = root.dir("conf").unwrap();
    // Swapped for a link out after it was opened.
    let top = root.path();
    std::fs::rename(top.join("conf"), top.join("moved")).unwrap();
    symlink(dir.path().join("outside"), top.join("conf")).unwrap();
    let staged = conf.create_new("new.xml", 0o600).unwrap();
    drop(staged);
    conf.rename("new.xml", &conf, "a.xml").unwrap();
    assert!(top.join("moved/a.xml").exists());
    assert_eq!(
        std::fs::read(dir.path().join("outside/secret.xml")).unwrap(),
        b"<secret/>"
    );
    assert!(!dir.path().join("outside/a.xml").exists());
    // A fresh walk meets the link, and refuses it.
    let fresh = Root::open(top).unwrap();
    assert!(matches!(
        fresh.read("conf/secret.xml", 4096),
        Err(Error::LeadsOut { .. })
    ));
}

#[test]
fn locate_follows_the_last_link_and_allows_a_new_name() {
    let (_dir, root) = tree();
    std::fs::create_dir(root.path().join("shared")).unwrap();
    std::fs::write(root.path().join("shared/b.xml"), "<b/>").unwrap();
    symlink("../shared/b.xml", root.path().join("conf/b.xml")).unwrap();
    let found = root.locate("conf/b.xml").unwrap();
    assert_eq!(
        (found.dir.rel(), found.name.as_os_str()),
        (Path::new("shared"), "b.xml".as_ref())
    );
    assert_eq!(found.meta.map(|m| (m.kind, m.len)), Some((Kind::File, 4)));
    let found = root.locate("conf/new.xml").unwrap();
    assert_eq!(
        (found.dir.rel(), found.name.as_os_str(), found.meta),
        (Path::new("conf"), "new.xml".as_ref(), None)
    );
    assert!(root.locate("none/new.xml").unwrap_err().is_not_found());
}

#[test]
fn folders_are_made_beneath_the_root() {
    let (_dir, root) = tree();
    symlink("conf", root.path().join("c")).unwrap();
    let mut made = Vec::new();
    let found = root.create_dirs("c/lib/drivers", 0o755, &mut made).unwrap();
    assert_eq!(found.rel(), Path::new("conf/lib/drivers"));
    assert!(root.path().join("conf/lib/drivers").is_dir());
    let named = |made: &[crate::Made]| -> Vec<PathBuf> {
        made.iter().map(|m| m.parent.rel().join(&m.name)).collect()
    };
    assert_eq!(
        named(&made),
        [PathBuf::from("conf/lib"), PathBuf::from("conf/lib/drivers")]
    );
    // Again: what is there is opened, and nothing is made.
    made.clear();
    assert_eq!(
        root.create_dirs("conf/lib/drivers", 0o755, &mut made)
            .unwrap()
            .rel(),
        Path::new("conf/lib/drivers")
    );
    assert!(made.is_empty());
    // A step that fails still reports the folders made before it.
    std::fs::write(root.path().join("conf/file"), "").unwrap();
    assert!(matches!(
        root.create_dirs("conf/file/x", 0o755, &mut made),
        Err(Error::NotAFolder { .. })
    ));
    assert!(made.is_empty());
    assert!(matches!(
        root.create_dirs("conf/new/../file/x", 0o755, &mut made),
        Err(Error::NotAFolder { .. })
    ));
    assert_eq!(named(&made), [PathBuf::from("conf/new")]);
}

#[test]
fn names_given_to_a_folder_are_single_and_never_followed() {
    let (dir, root) = tree();
    let conf = root.dir("conf").unwrap();
    for bad in ["", ".", "..", "a/b"] {
        assert!(
            matches!(conf.stat(bad), Err(Error::NotInside { .. })),
            "{bad:?}"
        );
    }
    symlink(
        dir.path().join("outside/secret.xml"),
        root.path().join("conf/l"),
    )
    .unwrap();
    assert_eq!(conf.stat("l").unwrap().unwrap().kind, Kind::Symlink);
    assert!(matches!(
        conf.open_read("l"),
        Err(Error::NotAFile {
            kind: Kind::Symlink,
            ..
        })
    ));
    assert!(conf.create_new("l", 0o600).is_err(), "not through a link");
    assert!(matches!(
        conf.open_or_create("l", 0o600),
        Err(Error::NotAFile { .. })
    ));
    assert_eq!(
        std::fs::read(dir.path().join("outside/secret.xml")).unwrap(),
        b"<secret/>"
    );
}

#[test]
fn listing_and_metadata_follow_inside_links() {
    let (_dir, root) = tree();
    symlink("conf", root.path().join("c")).unwrap();
    std::fs::create_dir(root.path().join("conf/sub")).unwrap();
    let mut entries = root.read_dir("c").unwrap().unwrap();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<_> = entries.iter().map(|e| (e.name.clone(), e.is_dir)).collect();
    assert_eq!(names, [("a.xml".into(), false), ("sub".into(), true)]);
    assert_eq!(root.read_dir("none").unwrap(), None);
    let meta = root.metadata("c/a.xml").unwrap().unwrap();
    assert_eq!((meta.kind, meta.len), (Kind::File, 4));
    assert_eq!(root.metadata("c").unwrap().unwrap().kind, Kind::Folder);
    assert_eq!(root.metadata("none").unwrap(), None);
}

#[test]
fn exchange_swaps_two_names() {
    let (_dir, root) = tree();
    let conf = root.dir("conf").unwrap();
    std::fs::write(root.path().join("conf/b.xml"), "<b/>").unwrap();
    if !conf.exchange("a.xml", &conf, "b.xml").unwrap() {
        eprintln!("skipped: no exchange on this file system");
        return;
    }
    assert_eq!(read(&root, "conf/a.xml").unwrap().unwrap(), b"<b/>");
    assert_eq!(read(&root, "conf/b.xml").unwrap().unwrap(), b"<a/>");
}

/// Writes `path` with an access time older than its last change, which any
/// `relatime` read moves to now; returns that time. `None` where the file
/// system keeps no access times (a plain read leaves them too).
fn long_unread(path: &Path, write: bool) -> Option<std::time::SystemTime> {
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 86_400);
    let unread = || {
        if write {
            std::fs::write(path, "<Server/>").unwrap();
        }
        let file = std::fs::File::open(path).unwrap();
        file.set_times(std::fs::FileTimes::new().set_accessed(long_ago))
            .unwrap();
    };
    let accessed = || std::fs::metadata(path).unwrap().accessed().unwrap();
    unread();
    if path.is_dir() {
        let _ = std::fs::read_dir(path).unwrap().count();
    } else {
        let _ = std::fs::read(path).unwrap();
    }
    if accessed() == long_ago {
        eprintln!("skipped: this file system does not update access times");
        return None;
    }
    unread();
    Some(long_ago)
}

#[test]
fn reading_and_listing_leave_access_times_as_they_were() {
    let (_dir, root) = tree();
    let file = root.path().join("conf/a.xml");
    let Some(long_ago) = long_unread(&file, true) else {
        return;
    };
    assert_eq!(read(&root, "conf/a.xml").unwrap().unwrap(), b"<Server/>");
    assert_eq!(
        std::fs::metadata(&file).unwrap().accessed().unwrap(),
        long_ago
    );
    let folder = root.path().join("conf");
    let long_ago = long_unread(&folder, false).unwrap();
    assert_eq!(root.read_dir("conf").unwrap().unwrap().len(), 1);
    assert_eq!(
        std::fs::metadata(&folder).unwrap().accessed().unwrap(),
        long_ago
    );
}

#[test]
fn a_read_takes_no_more_than_its_limit() {
    let (_dir, root) = tree();
    let big = root.path().join("conf/big");
    // A sparse terabyte: told by its size, nothing read.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let err = root.read("conf/big", 4096).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: over 4096 bytes, more than such a file may hold",
            big.display()
        )
    );
    assert_eq!(root.read("conf/a.xml", 4).unwrap().unwrap(), b"<a/>");
    assert!(matches!(
        root.read("conf/a.xml", 3),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn a_socket_where_a_file_is_read_is_named_as_one() {
    let (_dir, root) = tree();
    let path = root.path().join("conf/socket.xml");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = read(&root, "conf/socket.xml").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: a socket, not a regular file", path.display())
    );
}

/// Where anyone may link anyone's files, a file with other names is taken
/// for one linked in from outside unless the folder's sole writer owns it,
/// or is this process (its own stage folder).
#[test]
fn a_file_with_other_names_is_trusted_only_from_its_folders_sole_writer() {
    use crate::dir::may_be_linked_in;
    let meta = |uid: u32, mode: u32, nlink: u64| Meta {
        kind: Kind::File,
        mode,
        uid,
        gid: uid,
        nlink,
        len: 0,
        dev: 1,
        ino: 1,
    };
    const ROOT: u32 = 0;
    const OWNER: u32 = 65534;
    let owners_folder = meta(OWNER, 0o755, 2);
    // root's file linked into the owner's folder: refused.
    assert!(may_be_linked_in(
        &meta(ROOT, 0o600, 2),
        &owners_folder,
        false,
        ROOT
    ));
    // The owner's own file with two names (`cp -al`, chowned): read.
    assert!(!may_be_linked_in(
        &meta(OWNER, 0o644, 2),
        &owners_folder,
        false,
        ROOT
    ));
    // One name: read, whoever owns it.
    assert!(!may_be_linked_in(
        &meta(ROOT, 0o600, 1),
        &owners_folder,
        false,
        ROOT
    ));
    // A folder of root's that its group may write (2775): anyone in it
    // could have linked the file.
    let shared = meta(ROOT, 0o2775, 2);
    assert!(may_be_linked_in(
        &meta(ROOT, 0o600, 2),
        &shared,
        false,
        ROOT
    ));
    // An ACL counts as other writers too.
    assert!(may_be_linked_in(
        &meta(OWNER, 0o644, 2),
        &owners_folder,
        true,
        ROOT
    ));
    // This process's own 0700 folder (the stage folder): its own links.
    let own = meta(ROOT, 0o700, 2);
    assert!(!may_be_linked_in(&meta(OWNER, 0o644, 2), &own, false, ROOT));
}

/// Folders root makes take the owner and group of the folder they are made
/// in: the tree stays its owner's.
#[test]
fn folders_root_makes_are_the_owner_of_their_parent() {
    use std::os::unix::fs::{chown, MetadataExt};
    let (_dir, root) = tree();
    let me = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    let owner = if me.0 == 0 {
        chown(root.path().join("conf"), Some(65534), Some(65534)).unwrap();
        (65534, 65534)
    } else {
        me
    };
    root.create_dirs("conf/new/deeper", 0o755, &mut Vec::new())
        .unwrap();
    for made in ["conf/new", "conf/new/deeper"] {
        let meta = std::fs::metadata(root.path().join(made)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), owner, "{made}");
    }
}
