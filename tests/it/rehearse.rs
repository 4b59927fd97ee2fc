//! The README's main job: `airgap-relay rehearse` runs the whole ceremony against the built-in
//! sandbox and ends with the issuer's flags and the base account funded with an authorized
//! trustline. The sandbox applies stellar-core's rules, so a wrong step fails here.

use crate::util::{run, show, TestDir};

#[test]
fn rehearsal_runs_the_whole_ceremony() {
    let dir = TestDir::new();
    let out = run(
        dir.command("airgap-relay")
            .args(["rehearse", "--dir", "ceremony"]),
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("auth_required, auth_revocable"), "{stdout}");
    assert!(stdout.contains("home domain    example.com"), "{stdout}");
    assert!(
        stdout.contains("250000 USD:") && stdout.contains("authorized"),
        "{stdout}"
    );
    // Every step left a blob and a QR image, and the relay decodes the images back to the blobs.
    let mut blobs: Vec<_> = std::fs::read_dir(dir.join("ceremony"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    blobs.sort();
    let xdrs: Vec<_> = blobs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xdr"))
        .collect();
    let pngs: Vec<_> = blobs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!((xdrs.len(), pngs.len()), (5, 5), "{blobs:?}");
    for (x, p) in xdrs.iter().zip(&pngs) {
        let decoded = run(dir.command("airgap-relay").arg("decode").arg(p), None);
        assert!(decoded.status.success(), "{}", show(&decoded));
        assert_eq!(
            String::from_utf8_lossy(&decoded.stdout).trim(),
            std::fs::read_to_string(x).unwrap().trim()
        );
    }
    // A second run into the same directory is refused rather than mixing ceremonies.
    let again = run(
        dir.command("airgap-relay")
            .args(["rehearse", "--dir", "ceremony"]),
        None,
    );
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
}
