//! QR codes: writing an envelope as one code (PNG, SVG, terminal), and reading codes back out of photos.
mod binarize;
mod deadline;
pub mod decode;
mod detect;
pub mod encode;
pub mod limits;
mod prep;
mod sample;
