//! Keys: secret seeds in zeroizing memory, SEP-5 mnemonics, the encrypted keystore.
pub mod keystore;
pub mod mnemonic;
