"""CLI command ``wholesoil demo``: run the main jobs on the bundled sample data."""

from .common import add_command


def run_demo(args):
    from ..demo import run_demo as demo

    demo(args.output)
    return 0


def register(commands):
    parser = add_command(commands, "demo", run_demo, "run wholesoil's main jobs on the bundled sample data",
                         """\
Run wholesoil's main jobs on the small real datasets in resources/sample_data and write
every output (tables, GeoPackages, GeoTIFFs, PNG plots and an index.html) into one folder.

  wholesoil demo demo-output
""")
    parser.add_argument("output", nargs="?", default="demo-output", help="output folder (default demo-output)")
