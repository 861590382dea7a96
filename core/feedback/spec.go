package feedback

// CheckPairs says whether a learner's pairs are enough for Run: it holds one pair in five out to
// measure the reward model, and refuses too few with the error Run would give after the SFT
// model is made. A share link and the command line check a preference file with it before
// anything trains.
func CheckPairs(pairs []Pair) error {
	_, _, err := splitPairs(pairs)
	return err
}
