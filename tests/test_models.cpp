// Models against numbers published or computed elsewhere.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "engine/ops.h"
#include "models/oracle.h"

using namespace coopgen;

static std::string oracle_path() {
  const char* shared = std::getenv("COOPGEN_SHARED");
  return (std::filesystem::path(shared ? shared : "../shared") / "data/oracle/seqgan_oracle_lstm.safetensors").string();
}

TEST_CASE("the oracle's own samples score its entropy rate; uniform tokens score log-ish 11.43", "[models]") {
  if (!std::filesystem::exists(oracle_path())) {
    WARN("skipped: " << oracle_path() << " not found");
    return;
  }
  OracleLSTM oracle(oracle_path());
  REQUIRE(oracle.vocab() == 5000);
  // Published anchors (../shared/data/README.md): oracle samples ≈ 5.74, uniform tokens ≈ 11.43.
  Sequences own = oracle.generate(400, 17);
  REQUIRE(own.size() == 400);
  REQUIRE(oracle.nll(own) == Approx(5.74).margin(0.15));
  std::vector<float> u = Tensor::uniform({400 * 20}, 3, 0, 0, 5000).to_vector<float>();
  Sequences uniform(400, std::vector<int32_t>(20));
  for (size_t k = 0; k < u.size(); ++k) uniform[k / 20][k % 20] = int32_t(u[k]);
  REQUIRE(oracle.nll(uniform) == Approx(11.43).margin(0.1));
  REQUIRE_THROWS_WITH(oracle.nll({{1, 2, 3}}), Catch::Contains("exactly 20"));
}
