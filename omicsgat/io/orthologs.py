"""Gene orthologs between species: a reference of one species, a query of another.

A mouse reference and a human query share almost no gene names, so matching by
name finds nothing (or, case-insensitively, wrong pairs). This module converts
the reference's genes to the query's species with the Ensembl ortholog table
shipped in ``omicsgat/data`` (read offline; see ``omicsgat/data/README.md``),
so that every later step (gene matching, markers, results) works in the
query's own gene names and identifiers.

Orthologs are not all one-to-one. :data:`ORTHOLOG_RULES` says what happens to
the others: ``"one2one"`` keeps the genes with exactly one ortholog each way
(the others are dropped); ``"sum"`` gives each target gene the sum of the
counts of all its source orthologs (a source gene with several targets is
counted in each). The default is chosen in ``docs/celltype-species.md``.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from omicsgat.config import ORTHOLOG_RULES, CellTypeConfig
from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import gene_ids, symbol_view
from omicsgat.pp import counts_source, detect_x_kind

DEFAULT_ORTHOLOG_RULE = CellTypeConfig.ortholog_rule
# species pair -> (shipped file, its column per species, where it comes from)
ORTHOLOG_TABLES = {
    frozenset({"human", "mouse"}): (
        "orthologs_human_mouse_ensembl105.tsv.gz",
        {"human": "human_symbol", "mouse": "mouse_symbol"},
        "Ensembl 105",
    ),
}
MIN_DIRECT_SHARED = 50  # below this many shared names, a recognised and an unrecognised species cannot be matched


@dataclass
class SpeciesConversion:
    """How a reference was brought into the query's species (or why it was left as it is)."""

    reference_species: str | None
    query_species: str | None
    converted: bool
    rule: str = ""
    source: str = ""  # the table's release
    n_orthologs: int = 0  # target genes the converted reference has (shared with the query when restricted)
    n_with_ortholog: int = 0  # reference genes' targets before restricting to the query's genes
    n_one_to_one: int = 0
    n_reference_genes: int = 0
    genes: list[str] = field(default_factory=list)  # the converted reference's genes (query species)
    origin: dict[str, str] = field(default_factory=dict)  # target gene -> its reference gene(s), ";"-joined

    @property
    def pair(self) -> str:
        return f"{self.reference_species or 'unrecognised'} -> {self.query_species or 'unrecognised'}"

    def params(self) -> dict:
        """The entries ``annotate_cells`` adds to its result's params."""
        out = {
            "reference_species": self.reference_species,
            "query_species": self.query_species,
            "species_pair": self.pair,
            "species_converted": self.converted,
        }
        if self.converted:
            out.update(
                ortholog_rule=self.rule,
                ortholog_source=self.source,
                n_orthologs=self.n_orthologs,
                n_reference_genes_with_ortholog=self.n_with_ortholog,
                n_one_to_one_orthologs=self.n_one_to_one,
                orthologs=dict(self.origin),
            )
        return out

    def describe(self) -> str:
        if not self.converted:
            return f"species {self.pair}: genes matched by name"
        return (
            f"species {self.pair}: {self.n_orthologs} orthologs shared ({self.source}, rule {self.rule}; "
            f"{self.n_with_ortholog} of the reference's {self.n_reference_genes} genes have a "
            f"{self.query_species} ortholog)"
        )


def available_pairs() -> list[tuple]:
    return sorted(tuple(sorted(p)) for p in ORTHOLOG_TABLES)


def _no_table(from_species: str, to_species: str) -> OmicsInputError:
    pairs = ", ".join(" <-> ".join(p) for p in available_pairs())
    return OmicsInputError(
        f"The reference is {from_species} and the query is {to_species}, and no ortholog table ships for that pair "
        f"(shipped: {pairs}). Use a reference of the query's species, rename the reference's genes to "
        f"{to_species} symbols yourself, or, when a species was judged wrongly, say which it is with "
        "--reference-species / --query-species (reference_species= / query_species=)."
    )


@lru_cache(maxsize=4)
def _read_table(file: str) -> pd.DataFrame:
    from importlib import resources

    with resources.files("omicsgat").joinpath("data", file).open("rb") as raw, gzip.open(raw, "rt") as fh:
        return pd.read_csv(fh, sep="\t", comment="#", dtype=str, keep_default_na=False)


def ortholog_pairs(
    from_species: str, to_species: str, rule: str = DEFAULT_ORTHOLOG_RULE, table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Gene pairs ``source -> target`` between two species under ``rule`` (columns ``source``, ``target``).

    ``table``: a two-column table with one column per species (named as in
    :data:`ORTHOLOG_TABLES`); default the shipped one.
    """
    if rule not in ORTHOLOG_RULES:
        raise OmicsInputError(f"ortholog rule must be one of {', '.join(ORTHOLOG_RULES)} (got {rule!r}).")
    key = frozenset({from_species, to_species})
    if key not in ORTHOLOG_TABLES:
        raise _no_table(from_species, to_species)
    file, columns, _ = ORTHOLOG_TABLES[key]
    table = _read_table(file) if table is None else table
    pairs = pd.DataFrame(
        {"source": table[columns[from_species]].astype(str), "target": table[columns[to_species]].astype(str)}
    ).drop_duplicates()
    pairs = pairs[(pairs["source"] != "") & (pairs["target"] != "")]
    unique_source = pairs["source"].map(pairs["source"].value_counts()).eq(1)
    one = unique_source & pairs["target"].map(pairs["target"].value_counts()).eq(1)
    pairs = pairs.assign(one_to_one=one.to_numpy())
    if rule == "one2one":
        pairs = pairs[pairs["one_to_one"]]
    return pairs.reset_index(drop=True)


def _expression_source(view):
    """(matrix, its var names, kind) that cell typing would read: counts first, else a log-normalized X or .raw."""
    counts, _ = counts_source(view)
    if counts is not None:
        return counts, list(view.var_names), "counts"
    raw = view.raw
    if raw is not None and detect_x_kind(raw.X) == "counts":
        return raw.X, list(raw.var_names), "counts"
    kind = detect_x_kind(view.X)
    if kind == "scaled" and raw is not None and detect_x_kind(raw.X) == "log-normalized":
        return raw.X, list(raw.var_names), "log-normalized"
    return view.X, list(view.var_names), kind


def convert_species(
    adata,
    from_species: str,
    to_species: str,
    *,
    rule: str = DEFAULT_ORTHOLOG_RULE,
    gene_symbols: str | None = None,
    where: str = "the reference",
    table: pd.DataFrame | None = None,
    keep: Sequence[str] | None = None,
):
    """``(converted, conversion)``: ``adata``'s cells with genes named by their ``to_species`` orthologs.

    The new AnnData holds the expression cell typing reads (counts when
    ``adata`` has them) in ``X``, with ``obs`` kept; genes without an ortholog
    under ``rule`` are dropped, and so are targets not in ``keep`` (the query's
    genes) when given: the reference's most variable genes are then chosen among
    the genes the two species share, not among genes the query cannot have.
    ``adata`` is never changed.
    """
    import anndata as ad
    import scipy.sparse as sp

    view, ids = symbol_view(adata, gene_symbols, where)
    X, names, kind = _expression_source(view)
    pairs = ortholog_pairs(from_species, to_species, rule, table)
    pos = {g: i for i, g in enumerate(names)}
    pairs = pairs[pairs["source"].isin(pos)]
    n_with_ortholog = int(pairs["target"].nunique())
    if keep is not None:
        pairs = pairs[pairs["target"].isin(set(keep))]
    if pairs.empty:
        hint = (
            "its genes look like IDs: name its gene-symbol column (--reference-gene-symbols)"
            if ids.kind != "symbol" and ids.symbol_column is None
            else f"check that its genes are {from_species} gene symbols"
        )
        raise OmicsInputError(
            f"None of the {len(names)} genes of {where} ({from_species}) has a {to_species} ortholog in the shipped "
            f"table (matched by gene symbol){'' if keep is None else ' that the query has'}; {hint}."
        )
    targets = pd.Index(pd.unique(pairs["target"]))
    rows = pairs["source"].map(pos).to_numpy()
    cols = targets.get_indexer(pairs["target"])
    if rule == "one2one":
        X = X[:, rows]
    else:
        M = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(names), len(targets)))
        if kind == "counts":
            X = sp.csr_matrix(X) @ M
        else:  # log-normalized or scaled values do not add up: the mean of the orthologs instead
            per_target = np.asarray(M.sum(axis=0)).ravel()
            X = (sp.csr_matrix(X) @ M) @ sp.diags(1.0 / per_target)
        X = X if sp.issparse(adata.X) or not sp.issparse(X) else X.toarray()
    origin = pairs.groupby("target", sort=False)["source"].agg(";".join)
    converted = ad.AnnData(X=X, obs=adata.obs.copy(), var=pd.DataFrame(index=targets.astype(object)))
    conversion = SpeciesConversion(
        from_species,
        to_species,
        True,
        rule=rule,
        source=ORTHOLOG_TABLES[frozenset({from_species, to_species})][2],
        n_orthologs=len(targets),
        n_with_ortholog=n_with_ortholog,
        n_one_to_one=int(pairs["one_to_one"].sum()),
        n_reference_genes=len(names),
        genes=[str(t) for t in targets],
        origin={str(k): v for k, v in origin.items()},
    )
    return converted, conversion


def orthologs_uns(origin: dict[str, str], used: Sequence[str] | None = None) -> dict:
    """The ortholog map as h5ad-writable columns: query gene, its reference gene(s), whether the model used it."""
    genes = list(origin)
    used_set = set(genes if used is None else used)
    return {
        "gene": np.array(genes, dtype=object),
        "reference_gene": np.array([origin[g] for g in genes], dtype=object),
        "used": np.array([g in used_set for g in genes], dtype=bool),
    }


def _direct_overlap(reference, query, reference_gene_symbols, query_gene_symbols) -> int:
    r = gene_ids(reference, reference_gene_symbols, "the reference")
    q = gene_ids(query, query_gene_symbols, "the query")
    return len(set(r.symbols).intersection(q.symbols))


def _partner_species(species: str, symbols) -> tuple[str, int] | None:
    """(other species, genes) when at least MIN_DIRECT_SHARED of ``symbols`` are that species' orthologs of ``species``."""
    present = set(map(str, symbols))
    best = None
    for key, (file, columns, _) in ORTHOLOG_TABLES.items():
        if species not in key:
            continue
        (other,) = key - {species}
        hits = len(present.intersection(_read_table(file)[columns[other]]))
        if hits >= MIN_DIRECT_SHARED and (best is None or hits > best[1]):
            best = (other, hits)
    return best


def reference_in_query_species(
    reference,
    query,
    *,
    reference_species: str | None = None,
    query_species: str | None = None,
    reference_gene_symbols: str | None = None,
    query_gene_symbols: str | None = None,
    rule: str = DEFAULT_ORTHOLOG_RULE,
):
    """``(reference, reference_gene_symbols, conversion)`` ready to be matched with ``query`` by gene name.

    Species come from the gene identifiers (:func:`omicsgat.io.genes.gene_ids`)
    unless given. The same species (or neither recognised): the reference is
    returned as it is. Different species: it is converted with
    :func:`convert_species` (its symbols are then the var_names, so the symbol
    column is None). One recognised and the other not, with almost no shared
    gene names: an error asking for the species, instead of a silent empty match.
    """
    rs = reference_species or gene_ids(reference, reference_gene_symbols, "the reference").species
    qs = query_species or gene_ids(query, query_gene_symbols, "the query").species
    if rs and qs and rs != qs:
        if frozenset({rs, qs}) not in ORTHOLOG_TABLES:
            raise _no_table(rs, qs)
        qids = gene_ids(query, query_gene_symbols, "the query")
        converted, conversion = convert_species(
            reference, rs, qs, rule=rule, gene_symbols=reference_gene_symbols, keep=list(qids.symbols)
        )
        return converted, None, conversion
    if (rs is None) != (qs is None):
        shared = _direct_overlap(reference, query, reference_gene_symbols, query_gene_symbols)
        known, unknown = ("reference", "query") if rs else ("query", "reference")
        unknown_ids = gene_ids(
            query if unknown == "query" else reference,
            query_gene_symbols if unknown == "query" else reference_gene_symbols,
            f"the {unknown}",
        )
        partner = _partner_species(rs or qs, unknown_ids.symbols)
        if shared < MIN_DIRECT_SHARED and partner is not None:
            raise OmicsInputError(
                f"The {known} is {rs or qs} but the species of the {unknown} cannot be told from its gene identifiers, "
                f"and the two share only {shared} gene names, while {partner[1]} of the {unknown}'s genes are "
                f"{partner[0]} symbols with a {rs or qs} ortholog. Say which species the {unknown} is "
                f"(--{unknown}-species {partner[0]}, or {unknown}_species=) so its genes are matched through orthologs."
            )
    return reference, reference_gene_symbols, SpeciesConversion(rs, qs, False)


def species_preview(
    reference,
    query,
    *,
    reference_species: str | None = None,
    query_species: str | None = None,
    reference_gene_symbols: str | None = None,
    query_gene_symbols: str | None = None,
    rule: str = DEFAULT_ORTHOLOG_RULE,
) -> dict:
    """What a run will do about species, before it starts (cheap: gene names only), for a form to show.

    Keys: ``reference_species``, ``query_species``, ``pair``, ``cross_species``, ``n_orthologs`` (reference genes
    with an ortholog the query has; shared gene names within one species), ``text`` (one line), ``error`` (the
    message the run would stop with, else None).
    """
    rids = gene_ids(reference, reference_gene_symbols, "the reference")
    qids = gene_ids(query, query_gene_symbols, "the query")
    rs, qs = reference_species or rids.species, query_species or qids.species
    out = {
        "reference_species": rs,
        "query_species": qs,
        "pair": f"{rs or 'unrecognised'} -> {qs or 'unrecognised'}",
        "cross_species": bool(rs and qs and rs != qs),
        "n_orthologs": 0,
        "error": None,
    }
    try:
        if out["cross_species"]:
            pairs = ortholog_pairs(rs, qs, rule)
            pairs = pairs[pairs["source"].isin(set(rids.symbols)) & pairs["target"].isin(set(qids.symbols))]
            out["n_orthologs"] = int(pairs["target"].nunique())
            out["text"] = f"{out['pair']}: {out['n_orthologs']} orthologs shared (Ensembl, shipped; rule {rule})"
        else:
            out["n_orthologs"] = len(set(rids.symbols).intersection(qids.symbols))
            out["text"] = f"{out['pair']}: {out['n_orthologs']} gene names shared"
            reference_in_query_species(
                reference,
                query,
                reference_species=rs,
                query_species=qs,
                reference_gene_symbols=reference_gene_symbols,
                query_gene_symbols=query_gene_symbols,
                rule=rule,
            )
    except OmicsInputError as exc:
        out["error"], out["text"] = str(exc), f"{out['pair']}: {exc}"
    return out


def species_preview_file(reference_path, query, **kwargs) -> dict:
    """:func:`species_preview` for a reference file (``.h5ad``) read without its matrix: for a form, before a run."""
    import anndata as ad

    backed = ad.read_h5ad(reference_path, backed="r")
    try:
        genes_only = ad.AnnData(var=backed.var.copy())
    finally:
        backed.file.close()
    return species_preview(genes_only, query, **kwargs)
