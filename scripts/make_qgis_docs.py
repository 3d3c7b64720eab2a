"""Write the algorithm reference of docs/qgis.md from the algorithms themselves (needs QGIS).

Each algorithm gets a section (its help URL points there): id, help text, parameters with
their types, defaults and flags, outputs and references. Only the part between the two
markers is rewritten; tests/test_qgis_experience.py checks that it is up to date.
Run: . scripts/qgis_env.sh && .venv/bin/python scripts/make_qgis_docs.py
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "qgis.md"
BEGIN = "<!-- algorithm reference: written by scripts/make_qgis_docs.py, do not edit by hand -->"
END = "<!-- end of the algorithm reference -->"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(definition):
    value = definition.defaultValue()
    if value is None or value == "":
        return ""
    options = getattr(definition, "options", None)
    if callable(options) and isinstance(value, int) and value < len(options()):
        return options()[value]
    return str(value)


def _flags(definition):
    from qgis.core import QgsProcessingParameterDefinition as Definition

    flags = definition.flags()
    words = [word for flag, word in ((Definition.FlagOptional, "optional"), (Definition.FlagAdvanced, "advanced"),
                                     (Definition.FlagHidden, "hidden: scripts and qgis_process only"))
             if flags & flag]
    if definition.isDynamic():
        words.append("data-defined per feature")
    return ", ".join(words)


def algorithm_section(algorithm):
    """The Markdown section of one algorithm (heading = display name, so the help URL's anchor)."""
    from wholesoil.processing_provider.algorithm import help_paragraphs

    lines = [f"### {algorithm.displayName()}", "", f"`{algorithm.id()}`", ""]
    lines += [p for paragraph in help_paragraphs(algorithm.HELP) for p in (paragraph, "")]
    lines += ["| parameter | description | type | default | |", "|---|---|---|---|---|"]
    for definition in algorithm.parameterDefinitions():
        lines.append(f"| `{definition.name()}` | {_cell(definition.description())} | {definition.type()} | "
                     f"{_cell(_default(definition))} | {_flags(definition)} |")
    outputs = [o for o in algorithm.outputDefinitions()]
    if outputs:
        lines += ["", "Outputs: " + "; ".join(f"`{o.name()}` ({_cell(o.description())})" for o in outputs) + "."]
    references = getattr(algorithm, "REFERENCES", ())
    if references:
        from wholesoil.processing_provider.references import REFERENCES

        lines += ["", "References:", ""] + [f"* {REFERENCES[key]}" for key in references]
    return "\n".join(lines) + "\n"


def reference(provider):
    """The generated part: the algorithms by group, then the shipped models."""
    from wholesoil.processing_provider.provider import ShippedModel

    algorithms = sorted(provider.algorithms(), key=lambda a: (a.group(), a.displayName()))
    parts, group = [BEGIN, ""], None
    for algorithm in algorithms:
        if isinstance(algorithm, ShippedModel):
            continue
        if algorithm.group() != group:
            group = algorithm.group()
            parts += [f"## {group}", ""]
        parts.append(algorithm_section(algorithm))
    parts += ["## Models", "", "Graphical Modeler models shipped in `resources/models/`, served as algorithms of the "
              "provider (group *Models*). Open one in the Modeler to adapt it. Every output defaults to a temporary "
              "layer, so a model runs with its inputs alone.", ""]
    for algorithm in algorithms:
        if isinstance(algorithm, ShippedModel):
            inputs = ", ".join(f"`{d.name()}`" for d in algorithm.parameterDefinitions() if not d.isDestination())
            outputs = ", ".join(f"`{d.name()}`" for d in algorithm.destinationParameterDefinitions())
            parts += [f"* **{algorithm.displayName()}** (`{algorithm.id()}`, `resources/models/"
                      f"{Path(algorithm.path).name}`): {algorithm.helpContent().get('ALG_DESC', '')} Inputs: {inputs}. "
                      f"Outputs: {outputs}.", ""]
    return "\n".join(parts + [END])


def updated_page(text, provider):
    """``text`` (docs/qgis.md) with the part between the markers replaced by the current reference."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + reference(provider) + text[end:]


def main():
    from qgis_headless import wholesoil_provider

    with wholesoil_provider() as provider:
        DOCS.write_text(updated_page(DOCS.read_text(encoding="utf-8"), provider), encoding="utf-8")
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
