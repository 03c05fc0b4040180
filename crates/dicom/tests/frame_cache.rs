//! Paging through a multi-frame instance parses the file once: the viewer
//! asks for frame after frame, and each used to read and parse the whole
//! instance again. (Its own test binary: the cache is per process.)

use rtms_dicom::fixtures::*;
use rtms_dicom::{cache_stats, render_png, MAX_CACHE_BYTES};

#[test]
fn frames_of_a_multi_frame_instance_are_parsed_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::ct(1);
    spec.frames = 3;
    let path = write_file(dir.path(), "multi.dcm", &ct_object(&spec));
    let size = std::fs::metadata(&path).unwrap().len();
    let first = render_png(&path, None, 0, None, None).unwrap();
    for frame in 1..3 {
        render_png(&path, None, frame, None, None).unwrap();
    }
    assert_eq!(render_png(&path, None, 0, None, None).unwrap(), first);
    let (hits, misses, held) = cache_stats();
    assert_eq!((hits, misses), (3, 1));
    assert_eq!(held, size);
    assert!(held <= MAX_CACHE_BYTES);

    // A file replaced under the same name is read again.
    let mut other = Spec::ct(2);
    other.frames = 2;
    write_file(dir.path(), "multi.dcm", &ct_object(&other));
    render_png(&path, None, 1, None, None).unwrap();
    assert_eq!(
        render_png(&path, None, 2, None, None).unwrap_err().code(),
        "frame_out_of_range"
    );
    let (_, misses, _) = cache_stats();
    assert_eq!(misses, 2);
}
