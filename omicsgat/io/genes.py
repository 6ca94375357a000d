"""Gene identifiers: what ``var_names`` hold, where the symbols are, which species.

Public data rarely uses gene symbols as ``var_names``: CELLxGENE and most atlases
use Ensembl IDs (often with a version suffix) and keep symbols in a ``var``
column (``feature_name``, ``gene_symbols``, ...). Transcription-factor lists,
priors and marker lists are symbols, so every analysis matches through this
module: :func:`gene_ids` reads an AnnData's identifiers, :func:`symbol_view`
gives the analyses an AnnData named by symbols (with the ID kept per gene),
:func:`match_genes` picks the best shared identifier of two data sets, and
:func:`check_list_species` refuses a human list against mouse data (or the
reverse) instead of matching case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.tables import _make_unique

SYMBOL_COLUMNS = (
    "gene_symbols",
    "feature_name",
    "gene_name",
    "gene_names",
    "symbol",
    "symbols",
    "gene_symbol",
    "SYMBOL",
    "Symbol",
    "GeneSymbol",
    "features",
    "gene",
)

_ENSEMBL = re.compile(r"^ENS([A-Z]{0,6})G\d{6,}(\.\d+)?$")
_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]{0,6}G\d{6,})\.\d+$")
_ENTREZ = re.compile(r"^\d+$")
_GENERIC = re.compile(r"^[A-Za-z]+[_-]?\d{3,}$|_")  # GENE0001, REG000, MARK_T0_1: simulated or placeholder names
_HUMAN_SYMBOL = re.compile(r"^[A-Z][A-Z0-9-]*(orf\d+)?[A-Z0-9-]*(\.\d+)?$")
_MOUSE_SYMBOL = re.compile(r"^[A-Z][a-z][a-z0-9-]*(\.\d+)?$|^[A-Z]\d+[a-z][a-z0-9-]*$")
# species by Ensembl prefix (ENS + species code + G); ENSG (no code) is human
ENSEMBL_SPECIES = {"": "human", "MUS": "mouse", "RNO": "rat", "DAR": "zebrafish", "GAL": "chicken", "MMU": "macaque"}

KINDS = ("symbol", "ensembl", "ensembl_versioned", "entrez", "unknown")


def strip_version(name: str) -> str:
    """``ENSG00000141510.17`` -> ``ENSG00000141510``; anything else unchanged."""
    m = _ENSEMBL_VERSION.match(str(name))
    return m.group(1) if m else str(name)


def classify(values: Iterable, sample: int = 2000) -> str:
    """What a list of gene names holds: one of :data:`KINDS` (by the majority of a sample)."""
    vals = [str(v) for v in list(values)[:sample] if v is not None and str(v) not in ("", "nan")]
    if not vals:
        return "unknown"
    n = len(vals)
    ens = [v for v in vals if _ENSEMBL.match(v)]
    if len(ens) >= 0.8 * n:
        versioned = sum(bool(_ENSEMBL_VERSION.match(v)) for v in ens)
        return "ensembl_versioned" if versioned >= 0.5 * len(ens) else "ensembl"
    if sum(bool(_ENTREZ.match(v)) for v in vals) >= 0.8 * n:
        return "entrez"
    if sum(bool(re.search(r"[A-Za-z]", v)) for v in vals) >= 0.8 * n:
        return "symbol"
    return "unknown"


def shipped_tfs(species: str) -> List[str]:
    """The transcription-factor list shipped for ``"human"`` or ``"mouse"`` (see omicsgat/data/README.md)."""
    from importlib import resources

    name = {"human": "tfs_human.txt", "mouse": "tfs_mouse.txt"}[species]
    text = resources.files("omicsgat").joinpath("data", name).read_text(encoding="utf-8")
    return [g.strip() for g in text.splitlines() if g.strip() and not g.startswith("#")]


def symbol_species(values: Iterable, sample: int = 20000) -> Optional[str]:
    """``"human"`` (TP53) or ``"mouse"`` (Trp53) from symbols, else None.

    First by exact overlap with the shipped human and mouse TF lists (at
    least 3, and 3 times the other's); else by the case pattern of at least
    20 real-looking symbols (mostly upper-case: human; capitalised: mouse).
    Simulated names (``GENE0001``, ``g1``) and tiny lists give None, not a guess.
    """
    vals = [str(v) for v in list(values)[:sample]]
    present = set(vals)
    h = len(present.intersection(shipped_tfs("human")))
    m = len(present.intersection(shipped_tfs("mouse")))
    if max(h, m) >= 3 and max(h, m) >= 3 * min(h, m):
        return "human" if h > m else "mouse"
    vals = [v for v in vals if re.search(r"[A-Za-z]{2}", v) and not _ENSEMBL.match(v) and not _GENERIC.search(v)]
    human = sum(bool(_HUMAN_SYMBOL.match(v)) for v in vals)
    mouse = sum(bool(_MOUSE_SYMBOL.match(v)) for v in vals)
    if human + mouse < 20:
        return None
    if human >= 0.8 * (human + mouse):
        return "human"
    if mouse >= 0.8 * (human + mouse):
        return "mouse"
    return None


def ensembl_species(values: Iterable, sample: int = 2000) -> Optional[str]:
    codes = [m.group(1) for m in (_ENSEMBL.match(str(v)) for v in list(values)[:sample]) if m]
    if not codes:
        return None
    code = pd.Series(codes).mode().iloc[0]
    return ENSEMBL_SPECIES.get(code, f"Ensembl prefix ENS{code}G")


def _column_kind(var: pd.DataFrame, col) -> str:
    s = var[col]
    if not (
        pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype)
    ):
        return "unknown"
    return classify(s.astype(str).tolist())


def find_symbol_columns(var: pd.DataFrame) -> List[str]:
    """``var`` columns that hold gene symbols, the usual names first."""
    order = {c: i for i, c in enumerate(SYMBOL_COLUMNS)}
    found = [
        c
        for c in var.columns
        if _column_kind(var, c) == "symbol"
        and (str(c) in order or re.search(r"symbol|gene_?name|feature_name", str(c), re.I))
    ]
    return sorted(found, key=lambda c: (order.get(str(c), len(order)), str(c)))


def find_id_column(var: pd.DataFrame) -> Optional[str]:
    """A ``var`` column of Ensembl IDs (10x ``gene_ids``), when var_names are symbols."""
    for c in var.columns:
        if _column_kind(var, c).startswith("ensembl"):
            return str(c)
    return None


@dataclass
class GeneIds:
    """What identifies the genes of one data set, and how to name them by symbol."""

    kind: str  # of var_names, one of KINDS
    species: Optional[str]  # "human", "mouse", ... or None when it cannot be told
    symbol_column: Optional[str]  # var column of symbols used (None: var_names are the symbols)
    symbols: pd.Index  # one symbol per gene (the ID where a gene has none), in var order, unique
    ensembl: Optional[pd.Index]  # Ensembl ID without version per gene, or None
    candidates: List[str] = field(default_factory=list)  # every symbol column found

    def describe(self) -> str:
        kind = {
            "symbol": "gene symbols",
            "ensembl": "Ensembl gene IDs",
            "ensembl_versioned": "Ensembl gene IDs with version suffixes (ignored for matching)",
            "entrez": "Entrez gene IDs",
            "unknown": "identifiers of unknown kind",
        }[self.kind]
        text = f"var_names hold {kind}"
        text += f"; species {self.species}" if self.species else "; species not recognised"
        if self.symbol_column:
            text += f"; gene symbols taken from var[{self.symbol_column!r}]"
            others = [c for c in self.candidates if c != self.symbol_column]
            if others:
                text += f" (other symbol columns: {', '.join(map(str, others))})"
        elif self.kind != "symbol":
            text += "; no gene-symbol column found (TF lists and markers cannot be matched by symbol)"
        return text + "."


def _unique(names: Sequence[str]) -> pd.Index:
    """Make names unique the AnnData way (second ``X`` becomes ``X-1``)."""
    return _make_unique(pd.Index(list(names), dtype=object))[0]


def gene_ids(adata, gene_symbols: Optional[str] = None, where: str = "the data") -> GeneIds:
    """Read the identifiers of ``adata``: kind, species, symbol column (``gene_symbols`` or automatic).

    Automatic means: var_names are symbols, or exactly one symbol column is
    found (or several, one of the usual names such as ``feature_name`` first).
    """
    var = adata.var
    names = [str(v) for v in adata.var_names]
    kind = classify(names)
    candidates = find_symbol_columns(var)
    if gene_symbols is not None:
        if gene_symbols not in var.columns:
            cols = ", ".join(map(str, var.columns)) or "(none)"
            raise OmicsInputError(
                f"The gene-symbol column {gene_symbols!r} is not in var of {where}; var columns: {cols}. "
                "Give one of them with --gene-symbols (gene_symbols=), or leave it out when var_names are symbols."
            )
        column: Optional[str] = gene_symbols
    elif kind == "symbol":
        column = None
    else:
        column = candidates[0] if candidates else None
    ensembl = None
    if column is None:
        raw_symbols = names
        if kind.startswith("ensembl"):
            ensembl = pd.Index([strip_version(n) for n in names], dtype=object)
        elif (id_col := find_id_column(var)) is not None:
            ensembl = pd.Index([strip_version(str(v)) for v in var[id_col]], dtype=object)
    else:
        col = var[column].astype(object)
        raw_symbols = [str(s) if isinstance(s, str) and s.strip() and s != "nan" else n for s, n in zip(col, names)]
        raw_symbols = [strip_version(s) if _ENSEMBL.match(s) else s for s in raw_symbols]
        if kind.startswith("ensembl"):
            ensembl = pd.Index([strip_version(n) for n in names], dtype=object)
    species = ensembl_species(names) if kind.startswith("ensembl") else None
    if species is None and ensembl is not None:
        species = ensembl_species(ensembl)
    if species is None:
        species = symbol_species(raw_symbols)
    return GeneIds(kind, species, column, _unique(raw_symbols), ensembl, candidates)


def symbol_view(adata, gene_symbols: Optional[str] = None, where: str = "the data"):
    """``(view, ids)``: an AnnData sharing ``adata``'s matrices, with var_names = symbols.

    ``view.var["gene_id"]`` keeps the original var_name. When var_names already
    are the symbols (and no column was asked for) ``adata`` itself is returned.
    The caller's object is never changed.
    """
    import anndata as ad

    ids = gene_ids(adata, gene_symbols, where)
    if ids.symbol_column is None:
        return adata, ids
    var = pd.DataFrame({"gene_id": np.asarray(adata.var_names, dtype=object)}, index=ids.symbols)
    view = ad.AnnData(
        X=adata.X,
        obs=adata.obs,
        var=var,
        layers={k: v for k, v in adata.layers.items()},
        obsm={k: v for k, v in adata.obsm.items()},
    )
    if adata.raw is not None:
        raw = adata.raw
        if list(raw.var_names) == list(adata.var_names):
            raw_var = var
        else:  # a .raw with more genes: name those by its own symbol column where it has one
            raw_ids = gene_ids(raw.to_adata(), gene_symbols if gene_symbols in raw.var.columns else None, where)
            raw_var = pd.DataFrame({"gene_id": np.asarray(raw.var_names, dtype=object)}, index=raw_ids.symbols)
        view.raw = ad.AnnData(X=raw.X, obs=adata.obs[[]], var=raw_var)
    return view, ids


def id_column(genes: Iterable[str], view) -> Optional[List[str]]:
    """The original IDs of ``genes`` of a :func:`symbol_view` (None when it was not renamed)."""
    if "gene_id" not in view.var.columns:
        return None
    lookup = dict(zip(view.var_names, view.var["gene_id"].astype(str)))
    return [lookup.get(g, "") for g in genes]


# --- lists and species -----------------------------------------------------------


def list_species(genes: Sequence[str]) -> Optional[str]:
    kind = classify(genes)
    if kind.startswith("ensembl"):
        return ensembl_species(genes)
    return symbol_species(genes)


def check_list_species(
    list_species_: Optional[str], data_species: Optional[str], what: str, where: str = "the data"
) -> None:
    """A list of one species against data of another is an error, naming both."""
    if list_species_ and data_species and list_species_ != data_species:
        raise OmicsInputError(
            f"{what} is {list_species_} but {where} is {data_species} (judged from its gene identifiers). "
            f"Use the {data_species} list (e.g. --regulators {data_species}) or a list for this species; "
            "genes are never matched across species by ignoring case."
        )


def lookup_table(view) -> Dict[str, str]:
    """Every accepted spelling of a gene -> its name in ``view``: the symbol, the original ID, the ID without version."""
    table: Dict[str, str] = {}
    ids = view.var["gene_id"].astype(str) if "gene_id" in view.var.columns else pd.Series(view.var_names, dtype=object)
    for name, gid in zip(view.var_names, ids):
        table.setdefault(strip_version(gid), name)
        table.setdefault(gid, name)
    for name in view.var_names:
        table[name] = name
    return table


# --- two data sets ---------------------------------------------------------------


@dataclass
class GeneMatch:
    """How the genes of a reference and a query were matched."""

    route: str  # "ensembl" or "symbol"
    counts: Dict[str, int]  # genes matched by each route
    reference_names: List[str]  # reference var_names of the shared genes (reference order)
    query_names: List[str]  # the same genes' query var_names
    symbols: List[str]  # display name per shared gene (unique)
    ids: List[str]  # shared identifier per gene (stripped Ensembl ID or symbol)

    def describe(self) -> str:
        parts = ", ".join(f"{n} by {r}" for r, n in self.counts.items())
        return f"reference and query share {len(self.symbols)} genes, matched by {self.route} ({parts})."


def match_genes(reference, query, ref_symbols: Optional[str] = None, query_symbols: Optional[str] = None) -> GeneMatch:
    """Match the genes of two data sets by the shared identifier that matches the most genes.

    Routes: stripped Ensembl IDs (when both have them, as var_names or a
    column) and gene symbols (var_names or a symbol column). The data sets
    must be of one species.
    """
    rid = gene_ids(reference, ref_symbols, "the reference")
    qid = gene_ids(query, query_symbols, "the query")
    if rid.species and qid.species and rid.species != qid.species:
        raise OmicsInputError(
            f"The reference is {rid.species} and the query is {qid.species} (judged from their gene identifiers); "
            "genes are not matched across species by name. Convert the reference through orthologs first "
            "(annotate_cells does so for human and mouse: omicsgat.io.orthologs), or, when a species was judged "
            "wrongly, say which it is (--reference-species / --query-species)."
        )
    routes = {}
    if rid.ensembl is not None and qid.ensembl is not None:
        routes["ensembl"] = (rid.ensembl, qid.ensembl)
    routes["symbol"] = (rid.symbols, qid.symbols)
    counts, pairs = {}, {}
    for route, (rkeys, qkeys) in routes.items():
        qpos = {k: i for i, k in enumerate(qkeys)}
        pr = [(i, qpos[k]) for i, k in enumerate(rkeys) if k in qpos]
        counts[route], pairs[route] = len(pr), pr
    route = max(counts, key=lambda r: (counts[r], r == "ensembl"))
    pr = pairs[route]
    ref_names = [str(reference.var_names[i]) for i, _ in pr]
    qry_names = [str(query.var_names[j]) for _, j in pr]
    shared_ids = [str(routes[route][0][i]) for i, _ in pr]
    display = [str(qid.symbols[j]) for _, j in pr]
    return GeneMatch(route, counts, ref_names, qry_names, list(_unique(display)), shared_ids)
