"""Fan-out variants (issue 15 part 7): naming, the metadata the state machine reads, status parsing, and
the recorder's reading of its VARIANT environment."""

from __future__ import annotations

import json

import pytest

from app.cloud.layout import MAX_VARIANTS, JobRef, JobStatus, Variant, variants_metadata
from recorder.main import RecorderEnv

REF = JobRef("us-east-1:4a1e2b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b", "20261206-000000-abcdef")


def test_variant_names_sizes_and_refusals() -> None:
    assert Variant.of("de", "9:16") == Variant("de-9x16", "de", "9:16")
    assert Variant.of("pt-BR", None).name == "pt-br" and Variant.of(None, "1080p").name == "1080p"
    assert Variant.of("en", "9:16").size() == (1080, 1920) and Variant.of("en", "480x270").size() == (480, 270)
    assert Variant.of("en", None).size() is None
    with pytest.raises(ValueError, match="unknown format 'wide'"):
        Variant.of("en", "wide")
    with pytest.raises(ValueError, match="not a language tag"):
        Variant.of("english!", "16:9")
    with pytest.raises(ValueError, match="needs a language, a format or both"):
        Variant.of(None, None)
    with pytest.raises(ValueError, match="must be 1-40"):
        Variant.from_json({"name": "../escape", "format": "16:9"})
    # a name is a path segment, a sort-key part and a StartedBy input: no '/', no '#'
    with pytest.raises(ValueError):
        Variant.from_json({"name": "a#b"})
    assert REF.out_key("video.mp4", "de-9x16").endswith(f"/jobs/{REF.job_id}/out/de-9x16/video.mp4")
    with pytest.raises(ValueError, match="bad variant name"):
        REF.out_key("video.mp4", "../x")


def test_the_metadata_is_compact_json_within_s3s_limit_and_the_state_machines_cap() -> None:
    variants = [Variant.of(lang, fmt) for lang in ("en", "de", "fr") for fmt in ("16:9", "9:16")]
    text = variants_metadata(variants)
    assert json.loads(text) == [v.to_json() for v in variants] and " " not in text and len(text) < 2048
    with pytest.raises(ValueError, match="1 to 12"):
        variants_metadata([Variant.of("en", f"{w}x480") for w in range(320, 320 + 2 * (MAX_VARIANTS + 1), 2)])
    with pytest.raises(ValueError, match="must differ"):
        variants_metadata([Variant.of("en", "16:9"), Variant.of("en", "16:9")])


def test_a_fan_out_status_lists_its_variants_and_a_failure_names_them() -> None:
    doc = {"status": "Failed", "error": {"Error": "Reelwright.VariantsFailed", "Cause": "These variants failed"},
           "variants": [
               {"variant": {"name": "en-16x9", "language": "en", "format": "16:9"}, "status": "Complete",
                "result": {"outputs": [{"name": "video.mp4", "key": REF.out_key("video.mp4", "en-16x9"),
                                        "bytes": 10, "sha256": "a" * 64}]}},
               {"variant": {"name": "de-16x9", "language": "de", "format": "16:9"}, "status": "Failed",
                "error": {"Error": "Recorder.InvalidJob", "Cause": "no 'de' narration"}},
               {"variant": "junk", "status": "Complete"}]}
    st = JobStatus.from_json(REF.job_id, doc)
    assert [v.variant.name for v in st.variants] == ["en-16x9", "de-16x9"]  # the malformed one is dropped
    assert st.variants[0].outputs[0].key.endswith("/out/en-16x9/video.mp4")
    assert st.describe() == "Failed: variant de-16x9 (no 'de' narration); the other variants completed"
    assert JobStatus.from_json(REF.job_id, {"status": "Complete"}).variants == []


def test_the_recorder_reads_its_variant_and_reports_a_bad_one_as_an_invalid_job() -> None:
    base = {"JOB_BUCKET": "b", "JOB_KEY": REF.job_key, "TASK_TOKEN": "t"}
    env = RecorderEnv.from_environ({**base, "VARIANT": json.dumps({"name": "de-9x16", "language": "de",
                                                                   "format": "9:16"})})
    assert env.variant == Variant("de-9x16", "de", "9:16") and env.variant_error is None
    bad = RecorderEnv.from_environ({**base, "VARIANT": json.dumps({"name": "x/y"})})
    assert bad.variant is None and bad.variant_error is not None and "x/y" in bad.variant_error
    assert RecorderEnv.from_environ(base).variant is None
