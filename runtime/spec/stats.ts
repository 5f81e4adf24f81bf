//! The statistics of a specialisation, in the one schema that the abstract interpreter and the
//! generated specialisers both fill and that `--stats` prints.

export interface SpecStats {
  /** Operations of the interpreter's graphs processed. */
  opsSeen: number;
  /** Of those, computed at compile time. */
  opsFolded: number;
  /** Operations emitted into residual code. */
  opsResidual: number;
  virtualsCreated: number;
  virtualsForced: number;
  /** Distinct merge-point keys specialised. */
  mergeKeys: number;
  generalisations: number;
  /** Residual graphs (the entry and each specialised portal call). */
  graphs: number;
  promotions: number;
  specialiseMs: number;
}

export function newStats(): SpecStats {
  return {
    opsSeen: 0,
    opsFolded: 0,
    opsResidual: 0,
    virtualsCreated: 0,
    virtualsForced: 0,
    mergeKeys: 0,
    generalisations: 0,
    graphs: 0,
    promotions: 0,
    specialiseMs: 0,
  };
}
