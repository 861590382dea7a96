// Stands in for npm packages that tfjs-core's gradient modules import but never call in training
// (index.html): long, for string hashes, whose constants hash_util.js builds when it loads, and
// seedrandom, for random ops.
export default { fromString: () => ({}) };
