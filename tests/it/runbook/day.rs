//! The day's machinery for tests/it/runbook.rs: two machines, a USB stick and a camera around one
//! sandbox, and the small readers of what the relay prints.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::relay_support::{self, assert_predicted, code, inspect_records, records, Sandbox};
use crate::util::{python, run, run_python, scrubbed, show};
use airgap::keys::SecretSeed;
use serde_json::Value;

/// Five random words: `keys generate` refuses a passphrase zxcvbn finds easy.
const WORDS: &str = "quartz lantern evening pumpkin ferry";
pub(super) const NET: airgap::network::Network = airgap::network::Network::Standalone;
/// The keystores of the day: the issuer, the base (distribution) account, a second base account
/// made from a plan file, and the base account's two co-signers.
pub(super) const KEYS: [&str; 5] = ["issuer", "base", "desk", "alice", "bob"];

pub(super) struct Day {
    pub(super) sb: Sandbox,
    _root: tempfile::TempDir,
    pub(super) offline: PathBuf,
    pub(super) online: PathBuf,
    pub(super) usb: PathBuf,
    /// A holder of the asset (a customer): its key is its own, given to the signer as `env:`.
    pub(super) holder: SecretSeed,
}

impl Day {
    pub(super) fn new() -> Day {
        let root = tempfile::Builder::new()
            .prefix("airgap-runbook-")
            .tempdir()
            .expect("temp dir");
        let dir = |name: &str| {
            let d = root.path().join(name);
            std::fs::create_dir(&d).expect("mkdir");
            d
        };
        Day {
            sb: Sandbox::start(&[]),
            offline: dir("offline"),
            online: dir("online"),
            usb: dir("usb"),
            _root: root,
            holder: SecretSeed::generate().expect("random seed"),
        }
    }

    /// `airgap-signer ARGS` on the offline machine, every keystore's passphrase in its variable.
    pub(super) fn signer(&self, args: &[&str]) -> Output {
        let mut c = scrubbed("airgap-signer");
        c.current_dir(&self.offline).env("HOME", &self.offline);
        for name in KEYS {
            c.env(passphrase_var(name), passphrase(name));
        }
        c.env("HOLDER_SECRET", self.holder.to_strkey().as_str());
        run(c.args(args), None)
    }

    /// A signing command that must succeed: its output, and the transaction hash it printed last
    /// ("read it across to the online machine").
    pub(super) fn sign(&self, args: &[&str]) -> (Output, String) {
        let o = self.signer(args);
        assert!(o.status.success(), "{args:?}: {}", show(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let hash = last.trim().to_string();
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "the hash is not printed last: {}",
            show(&o)
        );
        (o, hash)
    }

    /// `airgap-relay ARGS --network standalone --horizon URL` on the online machine.
    pub(super) fn relay(&self, args: &[&str]) -> Output {
        let mut c = relay_support::relay();
        c.current_dir(&self.online).args(args).args([
            "--network",
            "standalone",
            "--horizon",
            &self.sb.url,
        ]);
        run(&mut c, None)
    }

    /// `airgap-relay account G… --json`, as the online side reads it.
    pub(super) fn account(&self, id: &str) -> Value {
        let o = self.relay(&["account", id, "--json"]);
        assert_eq!(code(&o), 0, "{}", show(&o));
        records(&o).remove(0)
    }

    pub(super) fn usb(&self, name: &str) -> String {
        self.usb.join(name).display().to_string()
    }

    /// Step 7 as the runbook writes it: `inspect` the inputs first, then each `submit` run; every
    /// blob submitted must have been predicted exactly (result codes), and each run must exit
    /// `exit`. Returns the (inspect, submit) record pairs.
    pub(super) fn inspect_then_submit(
        &self,
        inspect: &[&str],
        submits: &[(&[&str], i32)],
    ) -> Vec<(Value, Value)> {
        let mut ins: Vec<&str> = inspect.to_vec();
        ins.extend(["--network", "standalone"]);
        let (inspected, predictions) = inspect_records(&self.sb, &ins);
        assert_eq!(code(&inspected), 0, "inspect: {}", show(&inspected));
        let mut pairs = Vec::new();
        for (args, exit) in submits {
            let mut a = vec!["submit"];
            a.extend_from_slice(args);
            a.extend(["--json", "--timeout", "30s"]);
            let o = self.relay(&a);
            assert_eq!(code(&o), *exit, "{a:?}: {}", show(&o));
            pairs.extend(assert_predicted(&predictions, &inspected, &o));
        }
        for (i, s) in &pairs {
            assert_eq!(s["status"], "success", "{s}");
            assert_eq!(i["prediction"]["outcome"], "success", "{i}");
        }
        pairs
    }

    /// The camera: a photo of the QR code the relay wrote, taken with the QR corpus generator's
    /// phone model (tests/qr_corpus/make_corpus.py, `phone_hard`: perspective, a smaller image,
    /// uneven light, blur, sensor noise, JPEG at quality 30-50), saved where the offline machine
    /// reads it.
    pub(super) fn photograph(&self, code: &Path, photo: &Path) {
        let script = r#"
import sys
import numpy as np
from PIL import Image
sys.path.insert(0, "tests/qr_corpus")
import make_corpus
shot = make_corpus.damage("phone_hard", Image.open(sys.argv[1]).convert("L"), np.random.default_rng(7))
shot.save(sys.argv[2], "PNG")
"#;
        let o = run_python(python().args(["-c", script]).arg(code).arg(photo), None);
        assert!(o.status.success(), "the camera failed: {}", show(&o));
        assert_ne!(
            std::fs::read(code).unwrap(),
            std::fs::read(photo).unwrap(),
            "a photo, not the file"
        );
    }
}

pub(super) fn passphrase_var(name: &str) -> String {
    format!("{}_PASSPHRASE", name.to_uppercase())
}

fn passphrase(name: &str) -> String {
    format!("{WORDS} {name}")
}

/// `--key keystore:NAME.key`, its passphrase from its own variable.
pub(super) fn key(name: &str) -> String {
    format!(
        "keystore:{name}.key?passphrase-env={}",
        passphrase_var(name)
    )
}

pub(super) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(super) fn next_sequence(account: &Value) -> i64 {
    account["next_sequence"]
        .as_str()
        .expect("next_sequence")
        .parse()
        .expect("a number")
}

pub(super) fn blob_at(path: &str) -> stellar_xdr::TransactionEnvelope {
    airgap::envelope::decode(&std::fs::read_to_string(path).expect("blob")).expect("envelope")
}

/// The USD balance and authorization of an account's trustline to `asset`.
pub(super) fn trustline(account: &Value, asset: &str) -> (String, String) {
    let b = account["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["asset"] == asset)
        .unwrap_or_else(|| panic!("no {asset} trustline: {account}"));
    (
        b["balance"].as_str().unwrap().to_string(),
        b["authorization"].as_str().unwrap().to_string(),
    )
}

pub(super) fn check<'a>(record: &'a Value, name: &str) -> Option<&'a Value> {
    record["checks"]
        .as_array()?
        .iter()
        .find(|c| c["check"] == name)
}
