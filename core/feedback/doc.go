// Package feedback is the third stage of the story: learning from human feedback. A preference
// pair says which of two responses to a prompt is better; a reward model learns the pairs
// (Bradley-Terry), and the policy is tuned against it with PPO and a KL leash to the reference,
// or directly on the pairs with DPO, or with GRPO's group-relative advantages.
package feedback
