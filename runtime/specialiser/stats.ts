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
  /** Virtualizables made real again: written back into their homes (`Engine.enter`). */
  writeBacks: number;
  /** Distinct merge-point keys specialised. */
  mergeKeys: number;
  generalisations: number;
  /** Residual graphs (the entry and each specialised portal call). */
  graphs: number;
  promotions: number;
  /** Continuations made for a run-time value at a promotion not seen before. */
  promotionMisses: number;
  /** Tests of a promoted value against one the run showed there before, in residual code. */
  guards: number;
  /** Tiers: graphs made from a hot merge point's state (entries), exits made where a region
   *  ends (at a merge point the first tier had not found warm), and graphs made to go on from
   *  such an exit once it was hot (bridges). */
  tierEntries: number;
  regionExits: number;
  bridges: number;
  /** Tiers: labels made (key blocks that are joins, which later graphs jump into), and paths
   *  that ended in a jump into one (code not made again). */
  labels: number;
  labelJumps: number;
  specialiseMs: number;
  /** Of that, the clean-up passes over the residual graphs. */
  cleanupMs: number;
}

export function newStats(): SpecStats {
  return {
    opsSeen: 0,
    opsFolded: 0,
    opsResidual: 0,
    virtualsCreated: 0,
    virtualsForced: 0,
    writeBacks: 0,
    mergeKeys: 0,
    generalisations: 0,
    graphs: 0,
    promotions: 0,
    promotionMisses: 0,
    guards: 0,
    tierEntries: 0,
    regionExits: 0,
    bridges: 0,
    labels: 0,
    labelJumps: 0,
    specialiseMs: 0,
    cleanupMs: 0,
  };
}
