#include "proxy/routing/task_classifier.h"

#include <memory>

#include "common/text/str_cat.h"
#include "proxy/routing/message_text.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace llmgate::proxy::routing {
namespace {

using T = TaskClass;

// A keyword rule: an RE2 pattern over normalized text (ASCII and Cyrillic
// lowercased, Arabic alef forms folded). Each rule counts once per text, so a
// long paste cannot pile up evidence. ASCII words take `\b` (RE2's \b is ASCII
// only, which is what we want next to CJK); other scripts match stems
// anywhere, as Chinese and Japanese have no word boundaries at all.
struct Rule {
  const char* name;
  TaskClass task;
  double weight;
  const char* pattern;
};

// clang-format off
constexpr Rule kRules[] = {
  // --- Any language: ASCII technical vocabulary and syntax ---
  {"code.tech", T::kCode, 1.5,
   R"(\b(python|javascript|typescript|java|kotlin|golang|rust|php|ruby|perl|scala|haskell|sql|mysql|postgres(ql)?|sqlite|bash|powershell|react|vue|angular|node\.?js|django|flask|fastapi|docker(file)?|kubernetes|k8s|git|gdb|regexp?|html|css|graphql|cors|gunicorn|numpy|pandas|pytest|junit|npm|pip|api|rest|lru|dom)\b|c\+\+|\bc#|\.net\b)"},
  {"code.syntax", T::kCode, 1.5,
   R"(\bdef [a-z_]\w*\(|\bfn [a-z_]|\bfunc [a-z_]|console\.log|std::|#include|\bprintf|\bprintln|=>|!==?|===?|&&|\|\||\+\+|\w\.\w+\(|\w\(\)|;[ \t]*(\n|$))"},
  {"code.identifier", T::kCode, 1.0, R"(\b[a-z]+_[a-z_]+\b)"},
  {"structured.format", T::kStructured, 2.5, R"(\b(json|jsonl|yaml|yml|csv|xml|toml)\b)"},
  {"reasoning.math_expr", T::kReasoning, 2.0,
   R"(\d\s*[-+*/^×÷=]\s*\(?[\d.a-z]|\b[a-z]\^\d|\d[a-z]\s*[-+=]|\b[a-z]\([a-z]\)\s*=)"},

  // --- English (also catches English terms inside other languages) ---
  {"code.en", T::kCode, 2.0,
   R"(\b(functions?|methods?|compil(e|er|es|ed|ing)|debug\w*|refactor\w*|algorithms?|stack ?trace|exceptions?|segfault|segmentation fault|endpoints?|snippet|syntax|recursion|recursive|linked list|hash ?map|variables?|programming|source code|goroutines?|thread-safe|memory leak|null ?pointer\w*|unit tests?|compile errors?|runtime errors?)\b)"},
  {"code.en.weak", T::kCode, 1.0,
   R"(\b(class(es)?|program|code|coding|script|bugs?|query|queries|arrays?|implement\w*|repo(sitory)?)\b)"},
  {"structured.en", T::kStructured, 2.0,
   R"(\b(extract\w*|parse|fields?|schema|columns?|key-value|structured|spreadsheet|fill in)\b)"},
  {"structured.en.weak", T::kStructured, 1.5,
   R"(\b(tables?|classify|categori[sz]e|format)\b)"},
  {"summarize.en", T::kSummarize, 3.0,
   R"(\b(summar\w*|tl;? ?dr|tldr|recap\w*|condense\w*|synopsis|gist)\b)"},
  {"summarize.en.weak", T::kSummarize, 2.5,
   R"(\b(key takeaways?|takeaways|main points|key points|main ideas|boil (this|it) down|shorten\w*|abridge\w*|overview|abstract|digest|in (one|a single|a|two|three) sentences?|bullet points?|briefly|brief)\b)"},
  {"reasoning.en", T::kReasoning, 3.0, R"(\b(prove|proof|theorem|lemma)\b)"},
  {"reasoning.en.weak", T::kReasoning, 2.5,
   R"(\b(solve|solving|equations?|probability|derivative|integral|calculate|combinatori\w*|permutations?|puzzle|riddle|logic(al)?|deduce|step[- ]by[- ]step|is (this|the following) argument( valid)?|valid argument)\b)"},
  {"reasoning.en.cue", T::kReasoning, 1.5,
   R"(\b(how many|how much|estimate|trade-?offs?|pros and cons|weigh|think (it )?through|explain your reasoning|catch up)\b)"},
  {"creative.en", T::kCreative, 3.0,
   R"(\b(poem|poems|poetry|haiku|limerick|sonnet|lyrics|verse|ballad)\b)"},
  {"creative.en.form", T::kCreative, 2.5,
   R"(\b(story|stories|fairy ?tale|fable|novel|fiction|screenplay|slogans?|taglines?|jingle|toast|eulogy|bedtime|song)\b)"},
  {"creative.en.cue", T::kCreative, 1.5,
   R"(\b(imagine|invent|compose|brainstorm|creative|characters?|backstory|dialogue|scene|in the style of|catchy|witty|sci-fi|fantasy|once upon)\b)"},
  {"chat.en.greeting", T::kChat, 1.5,
   R"(\b(hi|hello|hey|good (morning|evening|night)|how are you|thanks|thank you|cheers)\b)"},
  {"chat.en", T::kChat, 1.0,
   R"(\b(recommend\w*|suggest\w*|advice|tips|opinion|do you think|tell me (something|about)|translate|translation|feeling|favou?rite)\b)"},

  // --- Chinese ---
  {"code.zh", T::kCode, 2.0,
   R"(代码|函数|编程|程序|调试|算法|编译|变量|脚本|正则|报错|接口|单例|线程|数组|链表|组件|重构|源码|异常|缓存)"},
  {"code.zh.weak", T::kCode, 1.0, R"(实现|优化|查询|数据库)"},
  {"structured.zh", T::kStructured, 2.0, R"(表格|提取|抽取|字段|结构化)"},
  {"structured.zh.weak", T::kStructured, 1.5, R"(格式|解析|分类|整理成|填写|每个对象)"},
  {"summarize.zh", T::kSummarize, 3.0, R"(总结|概括|摘要|归纳|提炼|太长不看|梗概|纪要)"},
  {"summarize.zh.weak", T::kSummarize, 2.5,
   R"(要点|缩短|压缩|精简|简要|简述|主要内容|大意|讲了什么|说了什么|一句话|三句话|核心观点)"},
  {"reasoning.zh", T::kReasoning, 3.0, R"(证明)"},
  {"reasoning.zh.weak", T::kReasoning, 2.5,
   R"(方程|概率|推理|推导|计算|逻辑|数列|通项|几何|面积|体积|导数|积分|求解|一步一步|逐步|排列|组合)"},
  {"reasoning.zh.cue", T::kReasoning, 1.5, R"(多少|为什么|说谎|真话|划算|哪个更)"},
  {"creative.zh", T::kCreative, 3.0, R"(诗|歌词|童话|绝句|律诗|续写|剧本)"},
  {"creative.zh.form", T::kCreative, 2.5,
   R"(故事|小说|广告语|口号|标语|文案|致辞|祝福语|贺词|散文|寓言)"},
  {"creative.zh.cue", T::kCreative, 2.0, R"(想象|创意|角色|描写|编一个|微型)"},
  {"chat.zh.greeting", T::kChat, 1.5, R"(你好|您好|谢谢|感谢|早上好|晚上好)"},
  {"chat.zh", T::kChat, 1.0, R"(推荐|建议|翻译|你觉得|聊聊|怎么办|好办法|有什么区别|纠结)"},

  // --- Russian (Cyrillic, lowercased) ---
  {"code.ru", T::kCode, 2.0,
   R"(код|программ|скрипт|алгоритм|компил|отлад|рефактор|массив|переменн|разработчик|утечк|профилир|бинарн)"},
  {"code.ru.weak", T::kCode, 1.5, R"(функци|цикл|запрос|библиотек)"},
  {"structured.ru", T::kStructured, 2.0,
   R"(таблиц|извлеки|извлечь|колонк|столбц|поля\b|полей|заполни|структур)"},
  {"structured.ru.weak", T::kStructured, 1.5, R"(формат|преобразуй|тональност|перечисли)"},
  {"summarize.ru", T::kSummarize, 3.0,
   R"(кратк|перескаж|резюм|суммир|аннотац|выжимк|вкратце|конспект)"},
  {"summarize.ru.weak", T::kSummarize, 2.5,
   R"(основные мысли|главн\S* мысл|сократи|сожми|подведи итог|итоги|тезис|сводк|о чём|в одном предложении|в двух словах)"},
  {"reasoning.ru", T::kReasoning, 3.0, R"(докаж|доказа|теорем)"},
  {"reasoning.ru.weak", T::kReasoning, 2.5,
   R"(уравнени|вероятност|вычисли|производн|интеграл|реши[\s:,]|решите|задач|логик|по шагам|пошагово|шаг за шагом|рассуди)"},
  {"reasoning.ru.cue", T::kReasoning, 1.5, R"(сколько|посчитай)"},
  {"creative.ru", T::kCreative, 3.0, R"(стих|сказк|поэм|песн)"},
  {"creative.ru.form", T::kCreative, 2.5, R"(рассказ|сочини|слоган|тост|роман|сюжет|поздравлени|басн)"},
  {"creative.ru.cue", T::kCreative, 2.0,
   R"(придумай|представь|в стиле|персонаж|опиши сцен|фантастич|дневник)"},
  {"chat.ru.greeting", T::kChat, 1.5, R"(привет|спасибо|здравствуй|как дела)"},
  {"chat.ru", T::kChat, 1.0,
   R"(посоветуй|совет|переве|расскажи|поговори|грустно|как ты|что думаешь)"},

  // --- Arabic (alef forms folded to ا) ---
  {"code.ar", T::kCode, 2.0, R"(كود|برمج|برنامج|دالة|خوارزمي|استعلام|متغير|شيفرة)"},
  {"code.ar.weak", T::kCode, 1.0, R"(قاعدة بيانات|خطا)"},
  {"structured.ar", T::kStructured, 2.0, R"(جدول|استخرج|حقول|اعمدة|صيغة|كائن)"},
  {"structured.ar.weak", T::kStructured, 1.5, R"(صنف|تصنيف|نظّم|نظم|حوّل)"},
  {"summarize.ar", T::kSummarize, 3.0, R"(لخص|ملخص|تلخيص|خلاصة)"},
  {"summarize.ar.weak", T::kSummarize, 2.5,
   R"(اختصر|باختصار|الافكار الرئيسية|النقاط الرئيسية|اوجز|موجز|المحاور|اهم النقاط)"},
  {"reasoning.ar", T::kReasoning, 3.0, R"(اثبت|برهن|برهان)"},
  {"reasoning.ar.weak", T::kReasoning, 2.5,
   R"(معادلة|احتمال|احسب|خطوة بخطوة|منطقي|حلل|استنتج|كم عدد)"},
  {"reasoning.ar.cue", T::kReasoning, 1.5, R"(كم |علل|علّل)"},
  {"creative.ar", T::kCreative, 3.0, R"(قصيدة|اغنية|حكاية|شعري|شاعري)"},
  {"creative.ar.form", T::kCreative, 2.5, R"(قصة|قصص|رواية|شعار|تهنئة|خيال علمي|ادبي)"},
  {"creative.ar.cue", T::kCreative, 2.0, R"(تخيل|تخيّل|ابتكر|مبتكر|مشهد)"},
  {"chat.ar.greeting", T::kChat, 1.5, R"(مرحبا|شكرا|كيف حالك|السلام عليكم)"},
  {"chat.ar", T::kChat, 1.0, R"(تنصحني|انصح|نصيحة|كيف اقول|حدثني|رايك|اشعر)"},

  // --- Hindi (Devanagari; nukta letters in both encodings) ---
  {"code.hi", T::kCode, 2.0,
   R"(कोड|फ\x{093C}ंक्शन|\x{095E}ंक्शन|फंक्शन|प्रोग्राम|क्लास|मेथड|क्वेरी|एल्गोरिदम|वेरिएबल|डीबग|स्क्रिप्ट|रिफैक्टर|कमांड|सर्वर)"},
  {"code.hi.weak", T::kCode, 1.0, R"(एरर|त्रुटि)"},
  {"structured.hi", T::kStructured, 2.0,
   R"(टेबल|तालिका|कॉलम|फ\x{093C}ील्ड|\x{095E}ील्ड|फील्ड|फॉर्मेट|प्रारूप|निकाल)"},
  {"structured.hi.weak", T::kStructured, 1.5, R"(सूची|भाव बता)"},
  {"summarize.hi", T::kSummarize, 3.0, R"(सारांश|संक्षेप|निचो|का सार)"},
  {"summarize.hi.weak", T::kSummarize, 2.5, R"(मुख्य बिंदु|छोटा कर|संक्षिप्त|मुख्य बातें)"},
  {"reasoning.hi", T::kReasoning, 3.0, R"(सिद्ध क)"},
  {"reasoning.hi.weak", T::kReasoning, 2.5,
   R"(समीकरण|हल कर|प्रायिकता|संभावना|गणना|तर्क|कदम दर कदम|चरण|ब्याज)"},
  {"reasoning.hi.cue", T::kReasoning, 1.5, R"(कितन)"},
  {"creative.hi", T::kCreative, 3.0, R"(कविता|गीत|कहानी)"},
  {"creative.hi.form", T::kCreative, 2.5, R"(स्लोगन|नारा|शुभकामना|उपन्यास|रचनात्मक)"},
  {"creative.hi.cue", T::kCreative, 2.0, R"(कल्पना|वर्णन)"},
  {"chat.hi.greeting", T::kChat, 1.5, R"(नमस्ते|नमस्कार|धन्यवाद|शुक्रिया|कैसे हैं|कैसे हो)"},
  {"chat.hi", T::kChat, 1.0,
   R"(उदास|सलाह|सुझाव|अनुवाद|अंग्रेज\x{093C}ी में|अंग्रेजी में|रोचक)"},

  // --- Japanese ---
  {"code.ja", T::kCode, 2.0,
   R"(コード|関数|プログラム|実装|クエリ|バグ|スクリプト|アルゴリズム|クラス|ジェネリクス|変数)"},
  {"code.ja.weak", T::kCode, 1.0, R"(エラー)"},
  {"structured.ja", T::kStructured, 2.0, R"(表に|表形式|抽出|フィールド|項目|列：|形式で)"},
  {"summarize.ja", T::kSummarize, 3.0, R"(要約|要点|概要|あらすじ)"},
  {"summarize.ja.weak", T::kSummarize, 2.5, R"(まとめ|簡潔|三行で|一言で)"},
  {"reasoning.ja", T::kReasoning, 3.0, R"(証明)"},
  {"reasoning.ja.weak", T::kReasoning, 2.5, R"(方程式|解いて|確率|計算|論理|何通り|求めよ|求めて)"},
  {"creative.ja", T::kCreative, 3.0, R"(俳句|短歌|詩|歌詞|物語)"},
  {"creative.ja.form", T::kCreative, 2.5, R"(小説|キャッチコピー|童話|ストーリー)"},
  {"creative.ja.cue", T::kCreative, 2.0, R"(想像|冒頭|創作)"},
  {"chat.ja.greeting", T::kChat, 1.5, R"(こんにちは|こんばんは|おはよう|ありがとう)"},
  {"chat.ja", T::kChat, 1.0, R"(おすすめ|元気|どう思|翻訳)"},

  // --- Spanish ---
  {"code.es", T::kCode, 2.0, R"(\b(código|función|funciones|programa|consulta)\b)"},
  {"structured.es", T::kStructured, 2.0, R"(\b(tabla|extrae|columnas|campos)\b)"},
  {"summarize.es", T::kSummarize, 3.0, R"(\b(resum\w*|resúm\w*|sintetiza|síntesis)\b)"},
  {"summarize.es.weak", T::kSummarize, 2.5,
   R"(\b(ideas principales|puntos clave|en una frase|en pocas palabras)\b)"},
  {"reasoning.es", T::kReasoning, 3.0, R"(\b(demuestra|demostración)\b)"},
  {"reasoning.es.weak", T::kReasoning, 2.5,
   R"(\b(resuelve|ecuaci\w*|probabilidad|calcula|paso a paso|cuántos|cuántas)\b)"},
  {"creative.es", T::kCreative, 3.0, R"(\b(poema|poesía|cuento|canción|letra de)\b)"},
  {"creative.es.form", T::kCreative, 2.5, R"(\b(eslogan(es)?|eslóganes|novela|relato)\b)"},
  {"creative.es.cue", T::kCreative, 2.0, R"(\b(inventa|imagina)\b)"},
  {"chat.es.greeting", T::kChat, 1.5, R"(\b(hola|gracias)\b|qué tal)"},
  {"chat.es", T::kChat, 1.0, R"(\b(recomiendas|recomienda|consejo|traduce)\b)"},
};
// clang-format on

constexpr std::size_t kRuleCount = sizeof(kRules) / sizeof(kRules[0]);

// Evidence from the request's shape rather than its words.
constexpr double kToolsWeight = 3.0;
constexpr double kResponseFormatWeight = 4.0;
constexpr double kFenceWeight = 2.5;
constexpr double kCodeLinesWeight = 1.5;
constexpr double kChatBaseline = 1.0;  // nothing else found: it is a conversation
constexpr double kSystemFactor = 0.5;  // the system prompt sets context, the user asks

// How much of the last user message is scanned for keywords: instructions sit
// at the start or the end of a prompt, pasted material in between.
constexpr std::size_t kHeadBytes = 1024;
constexpr std::size_t kTailBytes = 1024;
constexpr std::size_t kSystemBytes = 1024;
constexpr std::size_t kCodeScanBytes = 16 * 1024;

// Ties go to the class listed first: the more specific the more useful to a router.
constexpr TaskClass kPriority[] = {T::kStructured, T::kCode,     T::kReasoning,
                                   T::kSummarize,  T::kCreative, T::kChat};

class Matcher {
 public:
  Matcher() {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(64 << 20);
    options.set_posix_syntax(false);
    options.set_one_line(false);
    set_ = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    for (std::size_t i = 0; i < kRuleCount; ++i) {
      // A bad pattern is a programming error that the unit tests catch
      // (internal::brokenTaskRules()); here it is skipped.
      std::string error;
      const int index = set_->Add(kRules[i].pattern, &error);
      indices_.push_back(index);
      if (index >= 0) rule_of_.push_back(i);
    }
    ok_ = set_->Compile();
  }

  // Calls `on_rule(index)` for each rule matching `text`.
  template <typename F>
  void match(std::string_view text, F&& on_rule) const {
    if (!ok_ || text.empty()) return;
    std::vector<int> hits;
    set_->Match(re2::StringPiece(text.data(), text.size()), &hits);
    for (int set_index : hits) on_rule(rule_of_[static_cast<std::size_t>(set_index)]);
  }

  bool ok() const { return ok_; }
  int added(std::size_t rule) const { return indices_[rule]; }

 private:
  std::unique_ptr<RE2::Set> set_;
  std::vector<int> indices_;          // rule -> set index (-1: did not compile)
  std::vector<std::size_t> rule_of_;  // set index -> rule
  bool ok_ = false;
};

const Matcher& matcher() {
  static const Matcher* const m = new Matcher();  // never destroyed: used from any thread
  return *m;
}

// Lowercases ASCII and Cyrillic А-Я/Ё, folds Arabic أ إ آ to ا. All in place
// (every mapping keeps the UTF-8 length).
void normalize(std::string& s) {
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b >= 'A' && b <= 'Z') s[i] = static_cast<char>(b + 32);
      continue;
    }
    if (i + 1 >= n) break;
    const auto c = static_cast<unsigned char>(s[i + 1]);
    if (b == 0xD0) {
      if (c >= 0x90 && c <= 0x9F) {  // А-П -> а-п
        s[i + 1] = static_cast<char>(c + 0x20);
      } else if (c >= 0xA0 && c <= 0xAF) {  // Р-Я -> р-я
        s[i] = static_cast<char>(0xD1);
        s[i + 1] = static_cast<char>(c - 0x20);
      } else if (c == 0x81) {  // Ё -> е
        s[i + 1] = static_cast<char>(0xB5);
      }
      ++i;
    } else if (b == 0xD1 && c == 0x91) {  // ё -> е
      s[i] = static_cast<char>(0xD0);
      s[i + 1] = static_cast<char>(0xB5);
      ++i;
    } else if (b == 0xD8 && (c == 0xA2 || c == 0xA3 || c == 0xA5)) {  // آ أ إ -> ا
      s[i + 1] = static_cast<char>(0xA7);
      ++i;
    }
  }
}

// Shortens to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8Prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string_view utf8Suffix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t start = s.size() - max;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
  return s.substr(start);
}

std::string_view roleOf(const boost::json::object& msg) {
  if (const auto* role = msg.if_contains("role"); role && role->is_string()) {
    return role->get_string();
  }
  return {};
}

bool isCodeLine(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  std::size_t indent = 0;
  while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
  line.remove_prefix(indent);
  if (line.empty()) return false;
  const char last = line.back();
  if (last == ';' || last == '{' || last == '}') return true;
  if (line.size() >= 2 && line.substr(line.size() - 2) == "):") return true;
  for (std::string_view start : {"def ", "class ", "#include", "import ", "return ", "for (",
                                 "if (", "fn ", "func ", "const ", "let ", "var "}) {
    if (line.starts_with(start)) return true;
  }
  return false;
}

struct Scorer {
  std::array<double, kTaskClassCount> scores{};
  Explanation* why;

  void add(std::string_view name, TaskClass task, double weight) {
    scores[static_cast<std::size_t>(task)] += weight;
    if (why != nullptr) why->signals.push_back(TaskSignal{name, task, weight});
  }
};

}  // namespace

std::string_view toString(TaskClass task) {
  switch (task) {
    case T::kCode:
      return "code";
    case T::kStructured:
      return "structured";
    case T::kSummarize:
      return "summarize";
    case T::kReasoning:
      return "reasoning";
    case T::kCreative:
      return "creative";
    case T::kChat:
      return "chat";
  }
  return "chat";
}

std::optional<TaskClass> parseTaskClass(std::string_view name) {
  for (TaskClass t : kPriority) {
    if (toString(t) == name) return t;
  }
  return std::nullopt;
}

std::string Explanation::toString() const {
  std::string out = strCat("task=", routing::toString(task),
                           " score=", scores[static_cast<std::size_t>(task)], " signals=");
  for (std::size_t i = 0; i < signals.size(); ++i) {
    strAppend(out, i == 0 ? "" : ",", signals[i].name, ":", signals[i].weight);
  }
  return out;
}

TaskClass classify(const boost::json::object& chat_body, Explanation* why) {
  Scorer scorer{.why = why};
  if (why != nullptr) *why = Explanation{};

  std::string system;
  const boost::json::object* last_user = nullptr;
  if (const auto* list = chat_body.if_contains("messages"); list && list->is_array()) {
    for (const auto& m : list->get_array()) {
      if (!m.is_object()) continue;
      const auto& msg = m.get_object();
      const std::string_view role = roleOf(msg);
      if (role == "user") {
        last_user = &msg;
      } else if ((role == "system" || role == "developer") && system.size() < kSystemBytes) {
        if (const auto* content = msg.if_contains("content")) appendMessageText(*content, system);
      }
    }
  }

  // Shape of the request.
  if (const auto* tools = chat_body.if_contains("tools");
      tools && tools->is_array() && !tools->get_array().empty()) {
    scorer.add("tools", T::kStructured, kToolsWeight);
  }
  if (const auto* format = chat_body.if_contains("response_format");
      format && format->is_object()) {
    if (const auto* type = format->get_object().if_contains("type");
        type && type->is_string() &&
        (type->get_string() == "json_object" || type->get_string() == "json_schema")) {
      scorer.add("response_format", T::kStructured, kResponseFormatWeight);
    }
  }
  scorer.add("baseline", T::kChat, kChatBaseline);

  std::string user;
  if (last_user != nullptr) {
    if (const auto* content = last_user->if_contains("content")) appendMessageText(*content, user);
  }

  // Split the user text into prose (the instruction) and fenced code (payload).
  std::string prose;
  int fences = 0;
  {
    std::string_view rest = user;
    bool inside = false;
    while (!rest.empty()) {
      const std::size_t at = rest.find("```");
      const std::string_view piece = rest.substr(0, at);
      if (!inside) {
        prose.append(piece);
        prose.push_back('\n');
      }
      if (at == std::string_view::npos) break;
      ++fences;
      inside = !inside;
      rest.remove_prefix(at + 3);
      if (inside) {  // skip the info string (```python)
        const std::size_t eol = rest.find('\n');
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
      }
    }
  }
  if (fences >= 2) scorer.add("code_fence", T::kCode, kFenceWeight);

  int code_lines = 0;
  {
    std::string_view rest = utf8Prefix(user, kCodeScanBytes);
    while (!rest.empty() && code_lines < 2) {
      const std::size_t eol = rest.find('\n');
      if (isCodeLine(rest.substr(0, eol))) ++code_lines;
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    }
  }
  if (code_lines >= 2 && fences < 2) scorer.add("code_lines", T::kCode, kCodeLinesWeight);

  // Keywords: the head and tail of the prose, then the system prompt at half weight.
  if (prose.size() > kHeadBytes + kTailBytes) {
    std::string cut(utf8Prefix(prose, kHeadBytes));
    cut.push_back('\n');
    cut.append(utf8Suffix(prose, kTailBytes));
    prose = std::move(cut);
  }
  normalize(prose);
  const Matcher& m = matcher();
  m.match(prose,
          [&](std::size_t i) { scorer.add(kRules[i].name, kRules[i].task, kRules[i].weight); });
  if (!system.empty()) {
    system.resize(utf8Prefix(system, kSystemBytes).size());
    normalize(system);
    m.match(system, [&](std::size_t i) {
      scorer.add(kRules[i].name, kRules[i].task, kRules[i].weight * kSystemFactor);
    });
  }

  TaskClass best = T::kChat;
  double best_score = -1;
  for (TaskClass t : kPriority) {
    const double s = scorer.scores[static_cast<std::size_t>(t)];
    if (s > best_score) {
      best = t;
      best_score = s;
    }
  }
  if (why != nullptr) {
    why->task = best;
    why->scores = scorer.scores;
  }
  return best;
}

namespace internal {
// For the unit tests: the number of rules that failed to compile (must be 0).
int brokenTaskRules() {
  const Matcher& m = matcher();
  if (!m.ok()) return -1;
  int broken = 0;
  for (std::size_t i = 0; i < kRuleCount; ++i) broken += m.added(i) < 0 ? 1 : 0;
  return broken;
}
}  // namespace internal

}  // namespace llmgate::proxy::routing
