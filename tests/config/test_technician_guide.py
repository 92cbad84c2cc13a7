"""docs/TECHNICIAN.md: its pin tables are the board profiles, and README sends technicians
there."""

from controller.config.boards import pin_tables

from sc_paths import ROOT

GUIDE = ROOT / "docs" / "TECHNICIAN.md"


def test_the_guides_pin_tables_are_the_profiles():
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("<!-- pin tables:")
    shown = text[text.index("\n", start) + 1:text.index("<!-- end of pin tables -->")]
    assert shown == pin_tables(), "regenerate with controller.config.boards.pin_tables()"


def test_the_guide_keeps_its_place_for_the_monitor_unit_and_is_linked():
    text = GUIDE.read_text(encoding="utf-8")
    assert "\n## The monitor unit\n" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## For field technicians"):]
    section = section[:section.index("\n## ", 1)]
    assert "docs/TECHNICIAN.md" in section
