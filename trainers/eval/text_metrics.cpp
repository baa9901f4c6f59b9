// The text metrics: BLEU-2..5 of unconditional samples against the test lines and their
// Self-BLEU (Texygen's, as the language-GAN papers report them); for conditional tasks the
// targets decoded from the test sources scored by corpus BLEU-4 and ROUGE-1/2/L F1.
#include <algorithm>

#include "trainers/eval/bleu.h"
#include "trainers/eval/metrics.h"
#include "trainers/eval/rouge.h"
#include "trainers/loop/tasks.h"

namespace coopgen {

MetricKind metric_bleu() {
  return {"bleu", "BLEU-2..5 of train.eval_samples samples against the test lines, and their Self-BLEU-2..5",
          kNeedsReferenceText | kNeedsUnconditional, [](const EvalInputs& in) {
            std::vector<Words> text;
            for (const auto& q : in.samples()) text.push_back(in.task.words_of(q));
            const std::vector<double> b = mean_bleu(text, *in.task.reference_words()), sb = self_bleu(text);
            Metrics m;
            for (int n = 2; n <= kMaxBleuOrder; ++n) m.emplace_back("bleu" + std::to_string(n), b[size_t(n - 1)]);
            for (int n = 2; n <= kMaxBleuOrder; ++n) m.emplace_back("self_bleu" + std::to_string(n), sb[size_t(n - 1)]);
            return m;
          }};
}

// The first train.eval_samples test sources, each continued once (EvalInputs::decode: the sampling
// section, or decoding.decoder as the final sampler) and scored against its reference target.
MetricKind metric_bleu4_rouge() {
  return {"bleu4_rouge", "corpus BLEU-4 and ROUGE-1/2/L F1 of the targets decoded from the first train.eval_samples test sources",
          kNeedsReferenceText | kNeedsConditional, [](const EvalInputs& in) -> Metrics {
            const Task& t = in.task;
            const int64_t n = std::min<int64_t>(in.cfg.train.eval_samples, int64_t(t.test.size()));
            const SampledSet out = in.decode(t.leading_prompts(t.test, n));
            auto line = [](const Words& w) {
              std::string text;
              for (const std::string& word : w) text += (text.empty() ? "" : " ") + word;
              return text;
            };
            std::vector<std::string> hyp, ref;
            for (int64_t k = 0; k < n; ++k) ref.push_back(line((*t.reference_words())[size_t(k)]));
            for (const auto& s : out.seqs) {
              std::vector<int32_t> target(std::find(s.begin(), s.end(), t.sep) + 1, s.end());
              t.cut_at_eos(target);
              hyp.push_back(line(t.words_of(target)));
            }
            const RougeScores r = mean_rouge(hyp, ref);
            return {{"bleu4", corpus_bleu(hyp, ref)}, {"rouge1", r.rouge1}, {"rouge2", r.rouge2}, {"rougeL", r.rouge_l}};
          }};
}

}  // namespace coopgen
