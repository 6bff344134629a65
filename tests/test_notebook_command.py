"""`tessera notebooks` writes each executed notebook's plots as PNG files named by their cell."""

from __future__ import annotations

import base64

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def _book():
    import nbformat

    book = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell("# Mood heatmap per weekday\nplt.show()")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})]
    text = nbformat.v4.new_code_cell("print(1)")
    text.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    tagged = nbformat.v4.new_code_cell("show(fig)", metadata={"tags": ["plot:trait-radar"]})
    tagged.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})]
    two = nbformat.v4.new_code_cell("fig_a(); fig_b()")
    two.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})
                   for _ in range(2)]
    book.cells = [nbformat.v4.new_markdown_cell("# title"), plot, text, two, tagged]
    return book


def test_cell_images_are_named_by_cell_and_decoded():
    from orchestration.commands.notebooks import cell_images, first_error

    images = cell_images(_book())
    assert [stem for stem, _ in images] == ["01_mood_heatmap_per_weekday", "03_fig_a_fig_b_1", "03_fig_a_fig_b_2",
                                        "04_trait_radar"]
    assert all(data == PNG for _, data in images)
    assert first_error(_book()) is None


def test_first_error_names_the_exception():
    import nbformat

    from orchestration.commands.notebooks import first_error

    book = _book()
    book.cells[2].outputs = [nbformat.v4.new_output("error", ename="LookupError", evalue="marts.x does not exist",
                                                    traceback=[])]
    assert first_error(book) == "LookupError: marts.x does not exist"
