//! Documents of a signed conclusion: the sealed PDF/A (`conclusion`), the
//! СЭМД «Протокол консультации» (`semd`), signers' own CMS signatures and
//! their verification (`/verify`, `rtms verify`).
//!
//! May call: lifecycle, directory, access, platform.

pub mod conclusion;
pub mod semd;

pub use conclusion::*;
