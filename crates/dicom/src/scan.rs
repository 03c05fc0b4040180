//! A structural pre-scan of untrusted DICOM bytes, run before dicom-rs
//! parses them.
//!
//! dicom-rs builds nested sequences by recursion (one native stack frame set
//! per level) and reserves memory for a value by its declared length. A file
//! with sequences nested thousands deep overflows the thread's stack, which
//! aborts the whole process; a declared length of 4 GiB is a 4 GiB
//! allocation. This scan walks the same structure *iteratively* (an explicit
//! stack on the heap), holds no values, and refuses the file when
//!
//! * sequences (or encapsulated pixel data) nest deeper than [`MAX_DEPTH`];
//! * a declared length exceeds what is left of the file, of the enclosing
//!   sequence or item, or [`MAX_ELEMENT_BYTES`];
//! * the data set has more than [`MAX_ELEMENTS`] elements;
//! * a value is cut off by the end of the file (a stream is read through,
//!   so every length it accepts is backed by real bytes).
//!
//! The scan follows the parser's reading (PS3.5 encodings: implicit VR little
//! endian, explicit VR little and big endian, deflated explicit VR little
//! endian), so what it accepts is what dicom-rs will read.

use std::io::{self, Read};

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

use crate::DicomError;

/// Deepest nesting of sequences (and encapsulated pixel data) accepted.
/// Real studies nest a handful of levels (enhanced multi-frame objects about
/// five); dicom-rs spends stack per level, so this bounds its recursion.
pub const MAX_DEPTH: usize = 32;

/// Largest declared length of one value (1 GiB), whatever the file's size.
pub const MAX_ELEMENT_BYTES: u64 = 1 << 30;

/// Most data elements (items and fragments included) in one object. An
/// enhanced CT of thousands of frames has a few hundred thousand.
pub const MAX_ELEMENTS: u64 = 2_000_000;

/// Largest value accepted in the file meta group (group 0002), which holds
/// UIDs and short texts.
pub const MAX_META_VALUE_BYTES: u64 = 1 << 20;

const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const ITEM: Tag = Tag(0xFFFE, 0xE000);
const ITEM_END: Tag = Tag(0xFFFE, 0xE00D);
const SEQUENCE_END: Tag = Tag(0xFFFE, 0xE0DD);
const UNDEFINED: u32 = 0xFFFF_FFFF;

const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
const DEFLATED: &str = "1.2.840.10008.1.2.1.99";

/// Reads through, counting the position; skipping reads too, so a declared
/// length that the bytes do not back is found.
struct Input<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Input<R> {
    /// Fills `buf`; `Ok(false)` when the input ended before the first byte.
    fn read_or_end(&mut self, buf: &mut [u8]) -> Result<bool, DicomError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err(DicomError::Truncated),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DicomError::Io(e)),
            }
        }
        self.pos += buf.len() as u64;
        Ok(true)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<(), DicomError> {
        if self.read_or_end(buf)? || buf.is_empty() {
            Ok(())
        } else {
            Err(DicomError::Truncated)
        }
    }

    fn skip(&mut self, len: u64) -> Result<(), DicomError> {
        let copied = io::copy(&mut (&mut self.inner).take(len), &mut io::sink())?;
        self.pos += copied;
        if copied < len {
            return Err(DicomError::Truncated);
        }
        Ok(())
    }
}

/// How the data set is encoded.
#[derive(Clone, Copy)]
struct Encoding {
    explicit: bool,
    big_endian: bool,
}

impl Encoding {
    fn u16(&self, b: [u8; 2]) -> u16 {
        if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32(&self, b: [u8; 4]) -> u32 {
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
}

/// An element header as the parser reads it.
struct Header {
    tag: Tag,
    /// `None` for the item and delimiter tags of group FFFE.
    vr: Option<VR>,
    len: u32,
}

/// Value Representations whose length is 16 bits in explicit VR.
fn short_length(vr: VR) -> bool {
    use VR::*;
    matches!(
        vr,
        AE | AS
            | AT
            | CS
            | DA
            | DS
            | DT
            | FL
            | FD
            | IS
            | LO
            | LT
            | PN
            | SH
            | SL
            | SS
            | ST
            | TM
            | UI
            | UL
            | US
    )
}

/// Bytes of one value of a binary VR (1 for text and bytes).
fn value_size(vr: VR) -> u64 {
    use VR::*;
    match vr {
        US | SS | OW => 2,
        UL | SL | FL | OL | OF | AT => 4,
        FD | OD | SV | UV | OV => 8,
        _ => 1,
    }
}

/// Reads an element header; `Ok(None)` at the end of the input.
fn header<R: Read>(input: &mut Input<R>, enc: Encoding) -> Result<Option<Header>, DicomError> {
    let mut tag = [0u8; 4];
    if !input.read_or_end(&mut tag)? {
        return Ok(None);
    }
    let tag = Tag(enc.u16([tag[0], tag[1]]), enc.u16([tag[2], tag[3]]));
    let mut b4 = [0u8; 4];
    if tag.0 == 0xFFFE {
        input.read(&mut b4)?;
        return Ok(Some(Header {
            tag,
            vr: None,
            len: enc.u32(b4),
        }));
    }
    if !enc.explicit {
        input.read(&mut b4)?;
        let vr = if tag == PIXEL_DATA || (tag.0 >> 8 == 0x60 && tag.1 == 0x3000) {
            VR::OW
        } else {
            StandardDataDictionary
                .by_tag(tag)
                .map(|entry| entry.vr().relaxed())
                .unwrap_or(VR::UN)
        };
        return Ok(Some(Header {
            tag,
            vr: Some(vr),
            len: enc.u32(b4),
        }));
    }
    let mut b2 = [0u8; 2];
    input.read(&mut b2)?;
    let vr = VR::from_binary(b2).unwrap_or(VR::UN);
    let len = if short_length(vr) {
        input.read(&mut b2)?;
        u32::from(enc.u16(b2))
    } else {
        input.read(&mut b2)?; // reserved
        input.read(&mut b4)?;
        enc.u32(b4)
    };
    Ok(Some(Header {
        tag,
        vr: Some(vr),
        len,
    }))
}

/// The file meta group: returns the transfer syntax UID.
fn meta<R: Read>(input: &mut Input<R>) -> Result<String, DicomError> {
    let enc = Encoding {
        explicit: true,
        big_endian: false,
    };
    let invalid = |what: &str| DicomError::InvalidDicom(format!("file meta group: {what}"));
    let first = header(input, enc)?.ok_or(DicomError::Truncated)?;
    if first.tag != Tag(0x0002, 0x0000) || first.len != 4 {
        return Err(invalid("no group length"));
    }
    let mut b4 = [0u8; 4];
    input.read(&mut b4)?;
    let group_length = u64::from(u32::from_le_bytes(b4));
    let end = input.pos + group_length;
    let mut transfer_syntax = String::new();
    while input.pos < end {
        let h = header(input, enc)?.ok_or(DicomError::Truncated)?;
        let len = u64::from(h.len);
        if h.len == UNDEFINED {
            return Err(invalid("undefined length"));
        }
        if len > MAX_META_VALUE_BYTES {
            return Err(DicomError::LengthTooLarge {
                length: len,
                limit: MAX_META_VALUE_BYTES,
            });
        }
        if h.tag == Tag(0x0002, 0x0010) {
            let mut value = vec![0u8; len as usize];
            input.read(&mut value)?;
            transfer_syntax = String::from_utf8_lossy(&value)
                .trim_matches(|c: char| c.is_whitespace() || c == '\0')
                .to_string();
        } else {
            input.skip(len)?;
        }
    }
    Ok(transfer_syntax)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// Inside a sequence: items or the sequence delimiter come next.
    Sequence,
    /// Inside an item: elements or the item delimiter come next.
    Item,
    /// Inside encapsulated pixel data: fragments or the delimiter come next.
    Fragments,
}

struct Level {
    open: Open,
    /// Position where a level of defined length ends.
    end: Option<u64>,
}

/// Walks the data set after the meta group without recursion.
struct Walk {
    stack: Vec<Level>,
    /// Total size of the input, when known (a file).
    size: Option<u64>,
    elements: u64,
}

impl Walk {
    /// What a value starting at `pos` may at most be long: the file's rest,
    /// the innermost level of defined length's rest, and the named cap.
    /// A length past the named cap or the enclosing level is too large; one
    /// that only runs past the end of the file is a truncated file.
    fn check_length(&self, pos: u64, len: u32) -> Result<u64, DicomError> {
        let len = u64::from(len);
        let mut room = MAX_ELEMENT_BYTES;
        if let Some(end) = self.stack.iter().rev().find_map(|l| l.end) {
            room = room.min(end.saturating_sub(pos));
        }
        if len > room {
            return Err(DicomError::LengthTooLarge {
                length: len,
                limit: room,
            });
        }
        if self.size.is_some_and(|size| len > size.saturating_sub(pos)) {
            return Err(DicomError::Truncated);
        }
        Ok(len)
    }

    fn push(&mut self, open: Open, end: Option<u64>) -> Result<(), DicomError> {
        // Items do not add to the parser's recursion; sequences and pixel data do.
        let depth = self.stack.iter().filter(|l| l.open != Open::Item).count()
            + usize::from(open != Open::Item);
        if depth > MAX_DEPTH {
            return Err(DicomError::NestingTooDeep { limit: MAX_DEPTH });
        }
        self.stack.push(Level { open, end });
        Ok(())
    }

    fn count(&mut self) -> Result<(), DicomError> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(DicomError::TooManyElements {
                limit: MAX_ELEMENTS,
            });
        }
        Ok(())
    }

    fn run<R: Read>(
        &mut self,
        input: &mut Input<R>,
        enc: Encoding,
        header_only: bool,
    ) -> Result<(), DicomError> {
        loop {
            // Close the levels of defined length that end here.
            while let Some(end) = self.stack.last().and_then(|l| l.end) {
                match input.pos.cmp(&end) {
                    std::cmp::Ordering::Less => break,
                    std::cmp::Ordering::Equal => {
                        self.stack.pop();
                    }
                    std::cmp::Ordering::Greater => {
                        return Err(DicomError::InvalidDicom(
                            "an element runs past the end of its sequence".into(),
                        ))
                    }
                }
            }
            let Some(h) = header(input, enc)? else {
                // The parser, too, takes the end of the input for the end.
                return Ok(());
            };
            self.count()?;
            let pos = input.pos;
            let open = self.stack.last().map(|l| l.open);
            match open {
                Some(Open::Sequence) => match h.tag {
                    ITEM if h.len == UNDEFINED => self.push(Open::Item, None)?,
                    ITEM => {
                        let len = self.check_length(pos, h.len)?;
                        self.push(Open::Item, Some(pos + len))?;
                    }
                    SEQUENCE_END => {
                        self.stack.pop();
                    }
                    tag => {
                        return Err(DicomError::InvalidDicom(format!(
                            "unexpected {tag} in a sequence"
                        )))
                    }
                },
                Some(Open::Fragments) => match h.tag {
                    ITEM if h.len == UNDEFINED => {
                        return Err(DicomError::InvalidDicom(
                            "pixel data fragment of undefined length".into(),
                        ))
                    }
                    ITEM => {
                        let len = self.check_length(pos, h.len)?;
                        input.skip(len)?;
                    }
                    SEQUENCE_END => {
                        self.stack.pop();
                    }
                    tag => {
                        return Err(DicomError::InvalidDicom(format!(
                            "unexpected {tag} in pixel data"
                        )))
                    }
                },
                None | Some(Open::Item) => {
                    if h.tag == ITEM_END {
                        if open == Some(Open::Item) {
                            self.stack.pop();
                        }
                        // Outside any item the parser ignores it.
                        continue;
                    }
                    if open.is_none() && header_only && h.tag >= PIXEL_DATA {
                        // Where the index stops reading.
                        return Ok(());
                    }
                    if h.vr.is_none() {
                        return Err(DicomError::InvalidDicom(format!(
                            "unexpected {} outside a sequence",
                            h.tag
                        )));
                    }
                    if h.len == UNDEFINED {
                        if h.tag == PIXEL_DATA {
                            self.push(Open::Fragments, None)?;
                        } else {
                            // Any other undefined length is read as a sequence.
                            self.push(Open::Sequence, None)?;
                        }
                    } else if h.vr == Some(VR::SQ) {
                        let len = self.check_length(pos, h.len)?;
                        self.push(Open::Sequence, Some(pos + len))?;
                    } else {
                        let len = self.check_length(pos, h.len)?;
                        let size = h.vr.map_or(1, value_size);
                        if len % size != 0 {
                            // The parser would read whole values only and
                            // lose step with the bytes (found by fuzzing).
                            return Err(DicomError::InvalidDicom(format!(
                                "{}: length {len} is not a multiple of {size}",
                                h.tag
                            )));
                        }
                        input.skip(len)?;
                    }
                }
            }
        }
    }
}

/// Checks a DICOM Part-10 stream (preamble, `DICM`, meta group, data set)
/// before it is parsed. `size` is the stream's total length when known (a
/// file); declared lengths are then checked against it without reading.
/// With `header_only`, the walk stops where the index stops reading: at the
/// first top-level element at or after the pixel data.
pub(crate) fn check<R: Read>(
    reader: R,
    size: Option<u64>,
    header_only: bool,
) -> Result<(), DicomError> {
    let mut input = Input {
        inner: reader,
        pos: 0,
    };
    let mut prefix = [0u8; 132];
    match input.read_or_end(&mut prefix) {
        Ok(true) if &prefix[128..] == b"DICM" => {}
        Ok(_) | Err(DicomError::Truncated) => return Err(DicomError::NotDicom),
        Err(e) => return Err(e),
    }
    let transfer_syntax = meta(&mut input)?;
    let mut walk = Walk {
        stack: Vec::new(),
        size,
        elements: 0,
    };
    let explicit_le = Encoding {
        explicit: true,
        big_endian: false,
    };
    match transfer_syntax.as_str() {
        IMPLICIT_LE => walk.run(
            &mut input,
            Encoding {
                explicit: false,
                big_endian: false,
            },
            header_only,
        ),
        EXPLICIT_BE => walk.run(
            &mut input,
            Encoding {
                explicit: true,
                big_endian: true,
            },
            header_only,
        ),
        DEFLATED => {
            // The inflated size is unknown: every length is read through.
            walk.size = None;
            let pos = input.pos;
            let mut inflated = Input {
                inner: flate2::read::DeflateDecoder::new(input.inner),
                pos,
            };
            walk.run(&mut inflated, explicit_le, header_only)
        }
        _ => walk.run(&mut input, explicit_le, header_only),
    }
}

/// [`check`] on bytes in memory.
pub(crate) fn check_bytes(bytes: &[u8], header_only: bool) -> Result<(), DicomError> {
    check(bytes, Some(bytes.len() as u64), header_only)
}
