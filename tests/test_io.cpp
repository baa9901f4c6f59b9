#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/io.h"
#include "engine/ops.h"
#include "tests/testing.h"

#include <cmath>

using namespace coopgen;
namespace fs = std::filesystem;

static fs::path io_scratch(const std::string& name) { return testing::scratch_dir("io", false) / name; }

static void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

TEST_CASE("safetensors round-trips every dtype and the metadata", "[io]") {
  const fs::path p = io_scratch("round.safetensors");
  NamedTensors in{{"w", Tensor::uniform({3, 5}, 1, 0)},
                  {"d", Tensor::uniform({2}, 2, 0, 0, 1, DType::F64)},
                  {"b", Tensor::uniform({7}, 3, 0).to(DType::BF16)},
                  {"ids", Tensor::from(std::vector<int32_t>{4, -1, 9}, {3})},
                  {"empty", Tensor::zeros({0, 4})},
                  {"scalar", Tensor::full({}, 2.5)}};
  save_safetensors(p.string(), in, {{"format", "pt"}, {"note", "quote \" and \\ back"}});
  Metadata meta;
  auto out = load_safetensors(p.string(), &meta);
  REQUIRE(meta["format"] == "pt");
  REQUIRE(meta["note"] == "quote \" and \\ back");
  REQUIRE(out.size() == in.size());
  for (auto& [name, t] : in) {
    INFO(name);
    REQUIRE(out.at(name).shape() == t.shape());
    REQUIRE(out.at(name).dtype() == t.dtype());
    REQUIRE(read_file(p.string()).size() > 8);
  }
  REQUIRE(out.at("w").to_vector<float>() == in[0].second.to_vector<float>());
  REQUIRE(out.at("ids").to_vector<int32_t>() == std::vector<int32_t>{4, -1, 9});
  for (auto& e : fs::directory_iterator(p.parent_path()))
    REQUIRE(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("truncated or inconsistent safetensors files are refused, naming the tensor", "[io]") {
  const fs::path p = io_scratch("bad.safetensors");
  save_safetensors(p.string(), {{"alpha", Tensor::zeros({4})}, {"beta", Tensor::zeros({16})}});
  const std::string good = read_file(p.string());
  write_bytes(p, good.substr(0, good.size() - 10));
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("tensor 'beta'") && Catch::Contains("truncated"));
  write_bytes(p, good.substr(0, 5));
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("truncated"));
  write_bytes(p, good.substr(0, 20));
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("header length"));
  std::string header = R"({"gamma":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  std::string file(8, '\0');
  file[0] = char(header.size());
  write_bytes(p, file + header + std::string(8, '\0'));
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("tensor 'gamma'") && Catch::Contains("do not hold"));
  header = R"({"delta":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  file[0] = char(header.size());
  write_bytes(p, file + header + std::string(1, '\0'));
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("tensor 'delta': dtype U8 (coopgen reads"));
  REQUIRE_THROWS_WITH(load_safetensors((p.parent_path() / "missing.safetensors").string()),
                      Catch::Contains("missing.safetensors: no such file"));
}

TEST_CASE("the SeqGAN oracle, written by the reference safetensors writer, loads", "[io]") {
  const fs::path p = testing::oracle_file();
  if (!fs::exists(p)) {
    WARN("skipped: " << p << " not found");
    return;
  }
  auto t = load_safetensors(p.string());
  REQUIRE(t.at("embedding").shape() == Shape{5000, 32});
  REQUIRE(t.at("Wo").shape() == Shape{32, 5000});
  REQUIRE(t.at("bo").shape() == Shape{5000});
  for (const char* g : {"Wi", "Wf", "Wog", "Wc", "Ui", "Uf", "Uog", "Uc"}) REQUIRE(t.at(g).shape() == Shape{32, 32});
  REQUIRE(std::sqrt(sum_squares(t.at("embedding")).item()) > 0);
}

TEST_CASE("checkpoints: tensors plus trainer state, replaced whole", "[io]") {
  const fs::path dir = io_scratch("ckpt");
  TrainerState st;
  st.numbers["step"] = 120;
  st.numbers["loss"] = 2.718281828459045;
  st.strings["config"] = "configs/x.yaml";
  st.strings["quoted"] = "123";
  save_checkpoint(dir.string(), {{"w", Tensor::full({2, 2}, 1.5)}}, st);
  save_checkpoint(dir.string(), {{"w", Tensor::full({2, 2}, 2.5)}}, st);  // over the old one
  TrainerState back;
  auto t = load_checkpoint(dir.string(), &back);
  REQUIRE(t.at("w").to_vector<float>() == std::vector<float>(4, 2.5f));
  REQUIRE(back.numbers == st.numbers);
  REQUIRE(back.strings == st.strings);
  for (auto& e : fs::directory_iterator(dir.parent_path()))
    REQUIRE(e.path().filename().string().find("ckpt.") == std::string::npos);  // no temp folders left
  // A failing save (a name given twice) leaves the previous checkpoint intact.
  REQUIRE_THROWS(save_checkpoint(dir.string(), {{"w", Tensor::zeros({1})}, {"w", Tensor::zeros({1})}}, st));
  REQUIRE(load_checkpoint(dir.string(), nullptr).at("w").to_vector<float>() == std::vector<float>(4, 2.5f));
  st.numbers["bad"] = NAN;
  REQUIRE_THROWS_WITH(save_checkpoint(dir.string(), {}, st), Catch::Contains("'bad'"));
  REQUIRE_THROWS_WITH(load_checkpoint((dir.parent_path() / "nope").string(), nullptr), Catch::Contains("not a checkpoint"));
}
