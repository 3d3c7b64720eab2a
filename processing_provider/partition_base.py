"""Shared body of "Partition a total over depth" (table) and its raster algorithm."""

from ..core.errors import InputError
from .algorithm import WholesoilAlgorithm
from .depth_fractions_base import raster_engine
from .parameters import push_notes

PARTITION_HELP = """
Splits a profile total (for example BNPP in Mg C ha-1 yr-1, or a carbon stock in Mg C ha-1) over depth layers: value
in layer = total x fraction of the layer. The output has the unit of the total.
"""


class PartitionBase(WholesoilAlgorithm):
    GROUP = "Depth partitioning"
    GROUP_ID = "depth"
    TAGS = ("BNPP", "belowground NPP", "roots", "root inputs", "Iroot", "carbon stock", "depth distribution",
            "layers")

    def write_partition_raster(self, total, fractions, prefix, output, feedback):
        """total (raster path or number) x each band of the ``fractions`` raster, written to ``output``."""
        from ..core.partitioning import fractions_raster_note, raster_partition_total

        if fractions is None:
            raise InputError("a raster total needs the fraction raster (FRACTIONS)")
        raster_partition_total(total, output, fractions, prefix=prefix, **raster_engine(feedback))
        push_notes(feedback, [fractions_raster_note(fractions)])
        return output
