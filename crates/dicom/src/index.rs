//! Indexing an upload into patients, studies, series and instances.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::Path;

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use serde::{Deserialize, Serialize};

use crate::scan;
use crate::source::{self, error_chain, Kind};
use crate::DicomError;

/// How the upload was packaged.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// A single DICOM Part-10 file.
    Single,
    /// A ZIP archive of DICOM files.
    Zip,
}

/// Index of everything readable in one uploaded file (a single DICOM Part-10
/// file or a ZIP of them).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StudyIndex {
    /// How the upload was packaged.
    pub container: Container,
    /// Studies found, ordered by study date, then study instance UID.
    pub studies: Vec<Study>,
    /// ZIP entries that were not DICOM images or could not be read, each as
    /// `"<entry name>: <reason>"`. Directories are not listed.
    pub skipped: Vec<String>,
}

impl StudyIndex {
    /// Total number of instances in all studies.
    pub fn instance_count(&self) -> usize {
        self.studies
            .iter()
            .flat_map(|s| &s.series)
            .map(|s| s.instances.len())
            .sum()
    }
}

/// One study (one examination of one patient).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Study {
    /// Study Instance UID (0020,000D).
    pub study_instance_uid: String,
    /// Patient's name, human readable: DICOM `^` separators turned into
    /// spaces (e.g. `Иванов^Пётр` becomes `Иванов Пётр`). Empty when absent.
    pub patient_name: String,
    /// Patient ID (0010,0020). Empty when absent.
    pub patient_id: String,
    /// Patient's birth date as ISO `yyyy-mm-dd`.
    pub patient_birth_date: Option<String>,
    /// Patient's sex as recorded (`M`, `F`, `O`).
    pub patient_sex: Option<String>,
    /// Study date as ISO `yyyy-mm-dd`.
    pub study_date: Option<String>,
    /// Study description (0008,1030).
    pub study_description: Option<String>,
    /// Series of the study, ordered by series number, then UID.
    pub series: Vec<Series>,
}

/// One series (one acquisition or reconstruction) of a study.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Series {
    /// Series Instance UID (0020,000E).
    pub series_instance_uid: String,
    /// Series number (0020,0011).
    pub number: Option<i32>,
    /// Modality (0008,0060), e.g. `CT`, `MR`, `CR`.
    pub modality: Option<String>,
    /// Series description (0008,103E).
    pub description: Option<String>,
    /// Body part examined (0018,0015).
    pub body_part: Option<String>,
    /// Instances sorted by instance number, then slice position.
    pub instances: Vec<Instance>,
}

/// One image object (one file), possibly with several frames.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Instance {
    /// SOP Instance UID (0008,0018).
    pub sop_instance_uid: String,
    /// Instance number (0020,0013).
    pub instance_number: Option<i32>,
    /// Image height in pixels.
    pub rows: u16,
    /// Image width in pixels.
    pub columns: u16,
    /// Number of frames (1 for an ordinary image).
    pub frames: u32,
    /// ZIP entry name; `None` for a single-file upload.
    pub entry: Option<String>,
    /// Default window (centre, width) from the file, if present.
    pub window: Option<(f64, f64)>,
}

/// Header fields of one file, before grouping.
struct Record {
    study: Study,
    series: Series,
    instance: Instance,
    slice_position: Option<f64>,
}

/// Builds the index of an uploaded file: a single DICOM Part-10 file
/// (128-byte preamble + `DICM`) or a ZIP archive of such files.
///
/// Only the headers are read (parsing stops before the pixel data), so a
/// large archive is indexed quickly and without holding it in memory.
/// Entries of a ZIP that are not DICOM images or cannot be read are listed in
/// [`StudyIndex::skipped`]; for a single file such a problem is an error.
pub fn index_path(path: &Path) -> Result<StudyIndex, DicomError> {
    match source::detect(path)? {
        Kind::Single => {
            let obj = source::open_single(path, true)?;
            let record = read_record(&obj, None)?;
            Ok(StudyIndex {
                container: Container::Single,
                studies: group(vec![record]),
                skipped: Vec::new(),
            })
        }
        Kind::Zip => index_zip(source::open_zip(path)?),
    }
}

/// [`index_path`] on an upload held in memory.
pub fn index_bytes(bytes: &[u8]) -> Result<StudyIndex, DicomError> {
    match source::detect_bytes(bytes)? {
        Kind::Single => {
            scan::check_bytes(bytes, true)?;
            let obj = source::parse_stream(bytes, true)?;
            let record = read_record(&obj, None)?;
            Ok(StudyIndex {
                container: Container::Single,
                studies: group(vec![record]),
                skipped: Vec::new(),
            })
        }
        Kind::Zip => index_zip(source::open_zip_reader(std::io::Cursor::new(bytes))?),
    }
}

fn index_zip<R: std::io::Read + std::io::Seek>(
    mut archive: zip::ZipArchive<R>,
) -> Result<StudyIndex, DicomError> {
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    let budget = source::Budget::default();
    for i in 0..archive.len() {
        let name = match archive.name_for_index(i) {
            Some(Ok(name)) => name.into_owned(),
            _ => archive
                .by_index_data(i)
                .map(|e| String::from_utf8_lossy(e.name_raw()).into_owned())
                .unwrap_or_else(|_| format!("#{i}")),
        };
        let entry = match archive.by_index(i) {
            Ok(entry) => entry,
            Err(e) => {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        // First the structure is checked as it streams out, then parsed.
        let compressed = entry.compressed_size();
        let checked = scan::check(budget.meter(entry, compressed), None, true);
        budget.exceeded()?;
        let result = checked
            .and_then(|()| archive.by_index(i).map_err(source::map_zip_error))
            .and_then(|entry| source::parse_stream(budget.meter(entry, compressed), true))
            .and_then(|obj| read_record(&obj, Some(&name)));
        budget.exceeded()?;
        match result {
            Ok(record) => {
                if seen.insert(record.instance.sop_instance_uid.clone()) {
                    records.push(record);
                } else {
                    skipped.push(format!("{name}: duplicate instance"));
                }
            }
            Err(DicomError::NotDicom) => skipped.push(format!("{name}: not a DICOM file")),
            Err(e) => skipped.push(format!("{name}: {}", error_chain(&e))),
        }
    }
    Ok(StudyIndex {
        container: Container::Zip,
        studies: group(records),
        skipped,
    })
}

/// Trimmed text of an element, `None` when absent or empty.
fn text(obj: &DefaultDicomObject, tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.to_str().ok()?;
    let value = value.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!value.is_empty()).then(|| value.to_string())
}

fn int(obj: &DefaultDicomObject, tag: Tag) -> Option<i32> {
    let value = text(obj, tag)?;
    // IS values may carry a sign, spaces, or (in broken files) a decimal part.
    let first = value.split('\\').next()?.trim();
    first
        .parse::<i32>()
        .ok()
        .or_else(|| first.parse::<f64>().ok().map(|f| f.round() as i32))
}

fn floats(obj: &DefaultDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let values = text(obj, tag)?
        .split('\\')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    (!values.is_empty()).then_some(values)
}

/// DICOM person name to human-readable text: the first non-empty component
/// group (alphabetic, ideographic, phonetic), `^` separators as spaces.
pub(crate) fn human_name(raw: &str) -> String {
    let group = raw
        .split('=')
        .map(str::trim)
        .find(|g| !g.trim_matches('^').trim().is_empty())
        .unwrap_or("");
    group
        .split('^')
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// DICOM date (`yyyymmdd`, or the old `yyyy.mm.dd`) to ISO `yyyy-mm-dd`.
pub(crate) fn iso_date(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| *c != '.' && *c != '-').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..8].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(format!(
        "{}-{}-{}",
        &digits[0..4],
        &digits[4..6],
        &digits[6..8]
    ))
}

/// Position of the slice along the normal of the image plane, for sorting.
fn slice_position(obj: &DefaultDicomObject) -> Option<f64> {
    if let Some(position) = floats(obj, tags::IMAGE_POSITION_PATIENT).filter(|p| p.len() == 3) {
        if let Some(o) = floats(obj, tags::IMAGE_ORIENTATION_PATIENT).filter(|o| o.len() == 6) {
            let normal = [
                o[1] * o[5] - o[2] * o[4],
                o[2] * o[3] - o[0] * o[5],
                o[0] * o[4] - o[1] * o[3],
            ];
            return Some(
                position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2],
            );
        }
        return Some(position[2]);
    }
    floats(obj, tags::SLICE_LOCATION).map(|v| v[0])
}

fn read_record(obj: &DefaultDicomObject, entry: Option<&str>) -> Result<Record, DicomError> {
    let missing = |what: &str| DicomError::InvalidDicom(format!("missing {what}"));
    let (rows, columns) = match (int(obj, tags::ROWS), int(obj, tags::COLUMNS)) {
        (Some(r), Some(c)) if r > 0 && c > 0 => (
            u16::try_from(r).map_err(|_| missing("valid Rows"))?,
            u16::try_from(c).map_err(|_| missing("valid Columns"))?,
        ),
        // Structured reports, DICOMDIR, presentation states…
        _ => return Err(DicomError::NoPixelData),
    };
    let sop_instance_uid = text(obj, tags::SOP_INSTANCE_UID)
        .or_else(|| {
            let uid = obj.meta().media_storage_sop_instance_uid();
            let uid = uid.trim_matches(|c: char| c.is_whitespace() || c == '\0');
            (!uid.is_empty()).then(|| uid.to_string())
        })
        .ok_or_else(|| missing("SOP Instance UID"))?;
    let study_instance_uid =
        text(obj, tags::STUDY_INSTANCE_UID).ok_or_else(|| missing("Study Instance UID"))?;
    let series_instance_uid =
        text(obj, tags::SERIES_INSTANCE_UID).ok_or_else(|| missing("Series Instance UID"))?;
    let window = match (
        floats(obj, tags::WINDOW_CENTER),
        floats(obj, tags::WINDOW_WIDTH),
    ) {
        (Some(c), Some(w)) if w[0] >= 1.0 => Some((c[0], w[0])),
        _ => None,
    };
    let frames = int(obj, tags::NUMBER_OF_FRAMES)
        .filter(|n| *n > 0)
        .map_or(1, |n| n as u32);
    Ok(Record {
        study: Study {
            study_instance_uid,
            patient_name: text(obj, tags::PATIENT_NAME)
                .map(|n| human_name(&n))
                .unwrap_or_default(),
            patient_id: text(obj, tags::PATIENT_ID).unwrap_or_default(),
            patient_birth_date: text(obj, tags::PATIENT_BIRTH_DATE).and_then(|d| iso_date(&d)),
            patient_sex: text(obj, tags::PATIENT_SEX),
            study_date: text(obj, tags::STUDY_DATE).and_then(|d| iso_date(&d)),
            study_description: text(obj, tags::STUDY_DESCRIPTION),
            series: Vec::new(),
        },
        series: Series {
            series_instance_uid,
            number: int(obj, tags::SERIES_NUMBER),
            modality: text(obj, tags::MODALITY),
            description: text(obj, tags::SERIES_DESCRIPTION),
            body_part: text(obj, tags::BODY_PART_EXAMINED),
            instances: Vec::new(),
        },
        instance: Instance {
            sop_instance_uid,
            instance_number: int(obj, tags::INSTANCE_NUMBER),
            rows,
            columns,
            frames,
            entry: entry.map(str::to_string),
            window,
        },
        slice_position: slice_position(obj),
    })
}

/// `Some` before `None`, then ascending.
fn cmp_opt<T: PartialOrd>(a: &Option<T>, b: &Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Groups records into studies and series and sorts everything.
fn group(records: Vec<Record>) -> Vec<Study> {
    // (study, [(series, [(instance, position)])]) in order of first appearance.
    type SeriesAcc = (Series, Vec<(Instance, Option<f64>)>);
    let mut studies: Vec<(Study, Vec<SeriesAcc>)> = Vec::new();
    for record in records {
        let Record {
            study,
            series,
            instance,
            slice_position,
        } = record;
        let study_idx = match studies
            .iter()
            .position(|(s, _)| s.study_instance_uid == study.study_instance_uid)
        {
            Some(i) => i,
            None => {
                studies.push((study, Vec::new()));
                studies.len() - 1
            }
        };
        let series_list = &mut studies[study_idx].1;
        let series_idx = match series_list
            .iter()
            .position(|(s, _)| s.series_instance_uid == series.series_instance_uid)
        {
            Some(i) => i,
            None => {
                series_list.push((series, Vec::new()));
                series_list.len() - 1
            }
        };
        series_list[series_idx].1.push((instance, slice_position));
    }

    let mut out: Vec<Study> = studies
        .into_iter()
        .map(|(mut study, series_list)| {
            let mut series_out: Vec<Series> = series_list
                .into_iter()
                .map(|(mut series, mut instances)| {
                    instances.sort_by(|(a, pa), (b, pb)| {
                        cmp_opt(&a.instance_number, &b.instance_number)
                            .then_with(|| cmp_opt(pa, pb))
                            .then_with(|| a.sop_instance_uid.cmp(&b.sop_instance_uid))
                    });
                    series.instances = instances.into_iter().map(|(i, _)| i).collect();
                    series
                })
                .collect();
            series_out.sort_by(|a, b| {
                cmp_opt(&a.number, &b.number)
                    .then_with(|| a.series_instance_uid.cmp(&b.series_instance_uid))
            });
            study.series = series_out;
            study
        })
        .collect();
    out.sort_by(|a, b| {
        cmp_opt(&a.study_date, &b.study_date)
            .then_with(|| a.study_instance_uid.cmp(&b.study_instance_uid))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_become_readable() {
        assert_eq!(human_name("Иванов^Пётр"), "Иванов Пётр");
        assert_eq!(
            human_name("Ivanov^Petr^Sergeevich^^"),
            "Ivanov Petr Sergeevich"
        );
        assert_eq!(human_name("=Иванов^Пётр"), "Иванов Пётр");
        assert_eq!(human_name("Ivanov^Petr=Иванов^Пётр"), "Ivanov Petr");
        assert_eq!(human_name(""), "");
    }

    #[test]
    fn dates_become_iso() {
        assert_eq!(iso_date("19800315").as_deref(), Some("1980-03-15"));
        assert_eq!(iso_date("1980.03.15").as_deref(), Some("1980-03-15"));
        assert_eq!(iso_date("19801315"), None);
        assert_eq!(iso_date("1980"), None);
    }
}
