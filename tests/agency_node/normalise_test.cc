#include "agency_node/normalise.h"
#include "model/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

class NormaliserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto n = Normaliser::New();
    ASSERT_TRUE(n.ok()) << n.status();
    normaliser_ = n->release();
  }
  static void TearDownTestSuite() { delete normaliser_; }

  Surname S(const std::string& s) {
    auto r = normaliser_->NormaliseSurname(s);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Surname{};
  }
  GivenNames G(const std::string& s) {
    auto r = normaliser_->NormaliseGivenNames(s);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : GivenNames{};
  }
  static Normaliser* normaliser_;
};
Normaliser* NormaliserTest::normaliser_ = nullptr;

TEST_F(NormaliserTest, FoldRemovesDiacriticsAndTransliterates) {
  EXPECT_EQ(normaliser_->Fold("Öztürk"), "ozturk");
  EXPECT_EQ(normaliser_->Fold("Şükrü Yılmaz"), "sukru yilmaz");
  EXPECT_EQ(normaliser_->Fold("Łukasz Wałęsa"), "lukasz walesa");
  EXPECT_EQ(normaliser_->Fold("Straße"), "strasse");
  EXPECT_EQ(normaliser_->Fold("Ĳsbrand"), "ijsbrand");
  EXPECT_EQ(normaliser_->Fold("Шевченко Олександр"), "shevchenko oleksandr");  // Ukrainian
  EXPECT_EQ(normaliser_->Fold("محمد"), "mhmd");                                 // Arabic
  EXPECT_EQ(normaliser_->Fold("in ’t Veld"), "in 't veld");
  EXPECT_EQ(normaliser_->Fold("Nguyễn"), "nguyen");
}

TEST_F(NormaliserTest, SurnamePrefixesInAnyPosition) {
  const Surname canonical = S("van der Berg");
  EXPECT_EQ(canonical.core, "berg");
  EXPECT_EQ(canonical.with_prefix, "van der berg");
  for (const char* variant : {"Van der Berg", "Berg, van der", "Berg van der", "Berg v.d.",
                              "v.d. Berg", "vd Berg", "VAN DER BERG", "Berg,van der"}) {
    Surname s = S(variant);
    EXPECT_EQ(s.core, "berg") << variant;
    EXPECT_EQ(s.with_prefix, "van der berg") << variant;
    EXPECT_EQ(s.phonetic, canonical.phonetic) << variant;
  }
  EXPECT_EQ(S("in 't Veld").with_prefix, "in 't veld");
  EXPECT_EQ(S("Veld, in ’t").with_prefix, "in 't veld");
  EXPECT_EQ(S("Veld, in 't").core, "veld");
  EXPECT_EQ(S("'t Hart").core, "hart");
  EXPECT_EQ(S("ten Brink").core, "brink");
  EXPECT_EQ(S("Dijk, van").with_prefix, "van dijk");
  EXPECT_EQ(S("op de Beek").with_prefix, "op de beek");
  EXPECT_EQ(S("uit de Bosch").core, "bosch");
  EXPECT_EQ(S("von Bismarck").core, "bismarck");
}

TEST_F(NormaliserTest, ArabicArticleAndHyphen) {
  EXPECT_EQ(S("El Amrani").core, "amrani");
  EXPECT_EQ(S("El-Amrani").core, "amrani");
  EXPECT_EQ(S("Al-Sayed").with_prefix, "al sayed");
  EXPECT_EQ(S("Sayed, al").with_prefix, "al sayed");
}

TEST_F(NormaliserTest, DoubleSurnameKeepsBothParts) {
  Surname s = S("Jansen-de Vries");
  EXPECT_EQ(s.core, "jansen-vries");
  EXPECT_EQ(s.with_prefix, "jansen-de vries");
  EXPECT_EQ(S("Jansen - de Vries").core, "jansen-vries");
  EXPECT_NE(S("Jansen-de Vries").core, S("de Vries").core);
}

TEST_F(NormaliserTest, PunctuationAndApostrophes) {
  EXPECT_EQ(S("O'Brien").core, "obrien");
  EXPECT_EQ(S("  Jansen.  ").core, "jansen");
}

TEST_F(NormaliserTest, SurnameWithoutLettersIsRefusedWithoutEcho) {
  EXPECT_THAT(normaliser_->NormaliseSurname(" - , "), StatusIs(kInvalid));
  EXPECT_THAT(normaliser_->NormaliseSurname("123"), StatusIs(kInvalid));
  auto r = normaliser_->NormaliseSurname("12345");
  EXPECT_EQ(std::string(r.status().message()).find("12345"), std::string::npos);
}

// A placeholder for an unknown name is not a name: two records holding "Onbekend" must not
// share a name token, so the field is refused (treated as missing) without echoing it.
TEST_F(NormaliserTest, PlaceholdersForAnUnknownNameAreNotNames) {
  for (const char* s : {"Onbekend", "ONBEKENDE", "N.N.", "nn", "Anoniem", "X", "xxx", "Test",
                        "Achternaam", " Unknown "}) {
    auto r = normaliser_->NormaliseSurname(s);
    EXPECT_THAT(r, StatusIs(kInvalid)) << s;
    EXPECT_NE(std::string(r.status().message()).find("placeholder"), std::string::npos) << s;
  }
  for (const char* s : {"Onbekend", "N.N.", "Baby", "Meisje", "Jongen", "Zoon", "Dochter",
                        "Cliënt", "Client", "X", "Voornaam", "Kind"}) {
    auto r = normaliser_->NormaliseGivenNames(s);
    EXPECT_THAT(r, StatusIs(kInvalid)) << s;
    EXPECT_EQ(std::string(r.status().message()).find(s), std::string::npos) << s;
  }
  // Real names that contain or resemble a placeholder stay names.
  EXPECT_EQ(S("Jongen").core, "jongen");  // a surname, not a child's placeholder
  EXPECT_EQ(S("Nijs").core, "nijs");
  EXPECT_EQ(S("van Onna").core, "onna");
  EXPECT_EQ(G("Xander").first, "xander");
  EXPECT_EQ(G("Nina").first, "nina");
  EXPECT_EQ(G("Baby Jane").first, "baby");  // more than the placeholder: kept as written
}

TEST_F(NormaliserTest, OnlyPrefixesIsStillAName) {
  EXPECT_EQ(S("de").core, "de");
}

TEST_F(NormaliserTest, GivenNamesFullFirstAndInitials) {
  GivenNames g = G("Jan Maria");
  EXPECT_EQ(g.all, "jan maria");
  EXPECT_EQ(g.first, "jan");
  EXPECT_EQ(g.initial, "j");
  GivenNames i = G("J.M.");
  EXPECT_EQ(i.first, "");
  EXPECT_EQ(i.all, "");
  EXPECT_EQ(i.initial, "j");
  EXPECT_EQ(G("J. M.").initial, "j");
  EXPECT_EQ(G("J M").first, "");
  GivenNames mixed = G("Jan M.");
  EXPECT_EQ(mixed.first, "jan");
  EXPECT_EQ(mixed.all, "");
  EXPECT_EQ(G("Joh. Maria").first, "");  // an abbreviation is not a first name
  EXPECT_EQ(G("Jan-Willem").first, "janwillem");
  EXPECT_EQ(G("Éléonore").first, "eleonore");
  EXPECT_EQ(G("Олександр").first, "oleksandr");
  EXPECT_THAT(normaliser_->NormaliseGivenNames("..."), StatusIs(kInvalid));
}

TEST_F(NormaliserTest, PhoneticCollisionsTheBriefAsksFor) {
  EXPECT_EQ(DutchPhonetic("jansen"), DutchPhonetic("janssen"));
  EXPECT_EQ(DutchPhonetic("mohamed"), DutchPhonetic("mohammed"));
  EXPECT_EQ(DutchPhonetic("mohamed"), DutchPhonetic("muhammad"));
  EXPECT_EQ(DutchPhonetic("mohamed"), DutchPhonetic("mohammad"));
  EXPECT_EQ(DutchPhonetic("jansen"), "JNSN");
  EXPECT_EQ(DutchPhonetic("mohamed"), "MT");
}

TEST_F(NormaliserTest, PhoneticDutchSpellingRules) {
  EXPECT_EQ(DutchPhonetic("meijer"), DutchPhonetic("meyer"));
  EXPECT_EQ(DutchPhonetic("meijer"), DutchPhonetic("meier"));
  EXPECT_EQ(DutchPhonetic("dijkstra"), DutchPhonetic("dykstra"));
  EXPECT_EQ(DutchPhonetic("ijzerman"), DutchPhonetic("yzerman"));
  EXPECT_EQ(DutchPhonetic("ijzerman"), DutchPhonetic("eizerman"));
  EXPECT_EQ(DutchPhonetic("bosch"), DutchPhonetic("bos"));
  EXPECT_EQ(DutchPhonetic("smit"), DutchPhonetic("smid"));
  EXPECT_EQ(DutchPhonetic("smidt"), DutchPhonetic("smit"));
  EXPECT_EQ(DutchPhonetic("philips"), DutchPhonetic("filips"));
  EXPECT_EQ(DutchPhonetic("claassen"), DutchPhonetic("klaasen"));
  EXPECT_EQ(DutchPhonetic("cornelissen"), DutchPhonetic("kornelisen"));
  EXPECT_EQ(DutchPhonetic("visser"), DutchPhonetic("fisser"));
  EXPECT_EQ(DutchPhonetic("wouters"), DutchPhonetic("wauters"));
  EXPECT_EQ(DutchPhonetic("khalid"), DutchPhonetic("chalid"));
  EXPECT_EQ(DutchPhonetic("yusuf"), DutchPhonetic("joesoef"));
  EXPECT_EQ(DutchPhonetic("thijssen"), DutchPhonetic("tijsen"));
  EXPECT_EQ(DutchPhonetic("nowak"), DutchPhonetic("novak"));  // Polish
  EXPECT_EQ(DutchPhonetic("shevchenko"), DutchPhonetic("szewczenko"));
  EXPECT_EQ(DutchPhonetic("shevchenko"), DutchPhonetic("sjevtsjenko"));
  EXPECT_EQ(DutchPhonetic("yilmaz"), DutchPhonetic("jilmaz"));  // Turkish
}

TEST_F(NormaliserTest, PhoneticKeepsDifferentNamesApart) {
  EXPECT_NE(DutchPhonetic("jansen"), DutchPhonetic("jacobs"));
  EXPECT_NE(DutchPhonetic("bakker"), DutchPhonetic("visser"));
  EXPECT_NE(DutchPhonetic("tesfay"), DutchPhonetic("haile"));     // Eritrean
  EXPECT_NE(DutchPhonetic("kowalski"), DutchPhonetic("nowak"));
  EXPECT_NE(DutchPhonetic("de vries"), DutchPhonetic("de jong"));
  EXPECT_LE(DutchPhonetic("abcdefghijklmnopqrstuvwxyz").size(), 8u);
  EXPECT_EQ(DutchPhonetic(""), "");
}

TEST_F(NormaliserTest, NonLatinNamesMatchTheirLatinSpellings) {
  EXPECT_EQ(S("Шевченко").core, S("Shevchenko").core);
  EXPECT_EQ(S("Шевченко").phonetic, S("Sjevtsjenko").phonetic);
  EXPECT_EQ(S("Öztürk").core, S("Ozturk").core);
  EXPECT_EQ(S("Wałęsa").core, "walesa");
  // Arabic script loses its (unwritten) vowels; the phonetic code drops Latin vowels too.
  EXPECT_EQ(G("محمد").phonetic, G("Mohamed").phonetic);
}

TEST_F(NormaliserTest, CallNamesAndTransliterationsShareTheGivenNamePhonetic) {
  // Dutch roepnamen with another initial.
  EXPECT_EQ(G("Kees").phonetic, G("Cornelis").phonetic);
  EXPECT_EQ(G("Koos").phonetic, G("Jacobus").phonetic);
  EXPECT_EQ(G("Hans").phonetic, G("Johannes").phonetic);
  EXPECT_EQ(G("Jan Hendrik").phonetic, G("Johannes").phonetic);
  EXPECT_EQ(G("Henk").phonetic, G("Hendrik").phonetic);
  EXPECT_EQ(G("Bep").phonetic, G("Elisabeth").phonetic);
  // Transliterations and the French spelling of Arabic names, Ukrainian/Russian forms.
  EXPECT_EQ(G("Aicha").phonetic, G("Aisha").phonetic);
  EXPECT_EQ(G("Anouar").phonetic, G("Anwar").phonetic);
  EXPECT_EQ(G("Othman").phonetic, G("Osman").phonetic);
  EXPECT_EQ(G("Serhii").phonetic, G("Sergei").phonetic);
  EXPECT_EQ(G("Сергій").phonetic, G("Sergei").phonetic);
  EXPECT_EQ(G("Olha").phonetic, G("Olga").phonetic);
  EXPECT_EQ(G("Hristo").phonetic, G("Christo").phonetic);
  EXPECT_EQ(G("Kasia").phonetic, G("Katarzyna").phonetic);
  EXPECT_EQ(G("Mo").phonetic, G("Mohammed").phonetic);
  EXPECT_EQ(G("حسن").phonetic, G("Hassan").phonetic);
  // The first given name and the initial stay as written.
  EXPECT_EQ(G("Kees").first, "kees");
  EXPECT_EQ(G("Kees").initial, "k");
  EXPECT_EQ(CanonicalGivenName("kees"), "cornelis");
  EXPECT_EQ(CanonicalGivenName("wubbo"), "wubbo");
  // Different names stay apart.
  EXPECT_NE(G("Jan").phonetic, G("Jacobus").phonetic);
  EXPECT_NE(G("Anna").phonetic, G("Johanna").phonetic);
  EXPECT_NE(G("Fatima").phonetic, G("Aisha").phonetic);
}

TEST_F(NormaliserTest, PhoneticDjUwAndInitialH) {
  EXPECT_EQ(DutchPhonetic("kromodimedjo"), DutchPhonetic("kromodimejo"));
  EXPECT_EQ(DutchPhonetic("djamila"), DutchPhonetic("jamila"));
  EXPECT_EQ(DutchPhonetic("bouwman"), DutchPhonetic("bouman"));
  EXPECT_EQ(DutchPhonetic("hsn"), DutchPhonetic("hassan"));
  EXPECT_NE(DutchPhonetic("nowak"), DutchPhonetic("noak"));  // "ow" is not "ouw"
}

TEST_F(NormaliserTest, GluedArabicArticleIsDroppedForThePhoneticCode) {
  EXPECT_EQ(S("Elamrani").phonetic, S("El Amrani").phonetic);
  EXPECT_EQ(S("Alahmad").phonetic, S("Al-Ahmad").phonetic);
  EXPECT_EQ(S("Elkhatib").phonetic, S("El Khatib").phonetic);
  EXPECT_EQ(S("Elidrissi").phonetic, S("Idrissi").phonetic);
  EXPECT_EQ(S("Elamrani").core, "elamrani");  // the core stays as written
  EXPECT_NE(S("Elsen").phonetic, S("Sen").phonetic);  // too short to hold an article
}

TEST_F(NormaliserTest, SortedSurnameLettersSurviveATransposition) {
  EXPECT_EQ(S("Evrmeulen").sorted_letters, S("Vermeulen").sorted_letters);
  EXPECT_EQ(S("Okwalska").sorted_letters, S("Kowalska").sorted_letters);
  EXPECT_NE(S("Okwalska").phonetic, S("Kowalska").phonetic);  // what it is for
  EXPECT_EQ(S("van der Berg").sorted_letters, "begr");
  EXPECT_NE(S("Jansen").sorted_letters, S("Janssen").sorted_letters);
}

TEST_F(NormaliserTest, ConcurrentUseIsSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto s = normaliser_->NormaliseSurname("Berg, van der");
        if (!s.ok() || s->with_prefix != "van der berg") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// --- dates ---

constexpr Date kToday{2024, 6, 15};

TEST(DateTest, AcceptedFormats) {
  const Date d{2005, 3, 12};
  for (const char* s : {"2005-03-12", "2005-3-12", "12-03-2005", "12-3-2005", "12/03/2005",
                        "12.03.2005", "12-3-05", " 2005/03/12 ", "20050312", "12032005",
                        "2005-03-12T00:00", "2005-03-12 00:00:00", "2005-03-12T00:00:00Z",
                        "12-3-2005 0:00", "12/03/2005 00:00:00.000"}) {
    auto r = ParseDate(s, kToday);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status();
    EXPECT_EQ(*r, d) << s;
  }
}

TEST(DateTest, TwoDigitYearPivotsSoTheDateIsNotInTheFuture) {
  EXPECT_EQ(*ParseDate("3-4-15", kToday), (Date{2015, 4, 3}));
  EXPECT_EQ(*ParseDate("3-4-87", kToday), (Date{1987, 4, 3}));
  EXPECT_EQ(*ParseDate("15-6-24", kToday), (Date{2024, 6, 15}));  // today itself
  EXPECT_EQ(*ParseDate("16-6-24", kToday), (Date{1924, 6, 16}));  // tomorrow -> 1924
}

TEST(DateTest, ImpossibleDatesAreRefused) {
  for (const char* s : {"31-02-2005", "2005-02-29", "2005-13-01", "00-01-2005", "2005-04-31",
                        "1899-12-31", "2024-06-16", "2030-01-01", "", "12-03", "12--2005",
                        "12 maart 2005", "123-03-2005", "12-03-20055",
                        // eight digits readable neither as YYYYMMDD nor as DDMMYYYY
                        "20051312", "32032005", "18991231", "20240616", "2005031", "200503120",
                        // a date with something after it that is not a time of day
                        "2005-03-12 foo", "2005-03-12T", "2005-03-12 12", "2005-03-12 :00"}) {
    EXPECT_THAT(ParseDate(s, kToday), StatusIs(kInvalid)) << s;
  }
  EXPECT_TRUE(ParseDate("2004-02-29", kToday).ok());  // leap year
  EXPECT_TRUE(ParseDate("1900-01-01", kToday).ok());
  EXPECT_FALSE(ParseDate("1900-02-29", kToday).ok());  // 1900 was not a leap year
}

TEST(DateTest, ErrorsDoNotEchoTheValue) {
  auto r = ParseDate("31-02-2005", kToday);
  EXPECT_EQ(std::string(r.status().message()).find("2005"), std::string::npos);
}

// --- BSN ---

TEST(BsnTest, ElevenTest) {
  EXPECT_EQ(*NormaliseBsn("111222333"), "111222333");
  EXPECT_EQ(*NormaliseBsn("123456782"), "123456782");
  EXPECT_EQ(*NormaliseBsn("1234.56.782"), "123456782");
  EXPECT_EQ(*NormaliseBsn(" 123 456 782 "), "123456782");
  EXPECT_EQ(*NormaliseBsn("12345672"), "012345672");  // 8 digits: leading zero
  EXPECT_TRUE(PassesElevenTest("012345672"));
}

TEST(BsnTest, OneWrongDigitIsCaught) {
  const std::string good = "123456782";
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == good[pos]) continue;
      std::string typo = good;
      typo[pos] = d;
      EXPECT_THAT(NormaliseBsn(typo), StatusIs(kInvalid, "eleven-test")) << typo;
    }
  }
}

TEST(BsnTest, MalformedIsRefused) {
  EXPECT_THAT(NormaliseBsn("000000000"), StatusIs(kInvalid));
  EXPECT_THAT(NormaliseBsn("1234567"), StatusIs(kInvalid, "9 digits"));
  EXPECT_THAT(NormaliseBsn("1234567890"), StatusIs(kInvalid));
  EXPECT_THAT(NormaliseBsn("12345678a"), StatusIs(kInvalid));
}

// --- phone ---

TEST(PhoneTest, DutchMobileForms) {
  for (const char* s : {"0612345678", "06 1234 5678", "06-12345678", "+31612345678",
                        "+31 6 12345678", "0031612345678", "0031 6 1234 5678",
                        "+31 (0)6 12345678", "(06) 12 34 56 78"}) {
    auto r = NormalisePhone(s);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status();
    EXPECT_EQ(*r, "+31612345678") << s;
  }
}

TEST(PhoneTest, LandlineAndForeign) {
  EXPECT_EQ(*NormalisePhone("050-3671234"), "+31503671234");
  EXPECT_EQ(*NormalisePhone("020 123 4567"), "+31201234567");
  EXPECT_EQ(*NormalisePhone("+48 601 234 567"), "+48601234567");   // Polish
  EXPECT_EQ(*NormalisePhone("0048601234567"), "+48601234567");
  EXPECT_EQ(*NormalisePhone("+90 532 123 45 67"), "+905321234567");  // Turkish
}

TEST(PhoneTest, GarbageIsRefused) {
  for (const char* s : {"", "onbekend", "12345", "612345678", "06123456", "061234567890",
                        "+31 6 1234", "+1234", "06-1234-567x", "++31612345678"}) {
    EXPECT_THAT(NormalisePhone(s), StatusIs(kInvalid)) << s;
  }
}

// --- e-mail, postcode, house number ---

TEST(EmailTest, LowerCasedAndTrimmed) {
  EXPECT_EQ(*NormaliseEmail("  J.Jansen@Example.NL "), "j.jansen@example.nl");
  for (const char* s : {"jansen", "@example.nl", "a@b@c.nl", "jan@localhost", "jan sen@x.nl",
                        "jan@.nl", "jan@x."}) {
    EXPECT_THAT(NormaliseEmail(s), StatusIs(kInvalid)) << s;
  }
}

TEST(PostcodeTest, CanonicalForm) {
  EXPECT_EQ(*NormalisePostcode("1234 ab"), "1234AB");
  EXPECT_EQ(*NormalisePostcode("9712CP"), "9712CP");
  EXPECT_EQ(*NormalisePostcode(" 9712 cp "), "9712CP");
  EXPECT_EQ(*NormalisePostcode("NL-9712 CP"), "9712CP");
  for (const char* s : {"", "  ", "AB", "12", "ABCDEF", "12345678901", "97#12", "9712\tCP"}) {
    EXPECT_THAT(NormalisePostcode(s), StatusIs(kInvalid)) << s;
  }
}

TEST(PostcodeTest, ForeignPostcodesAreKeptAsOpaqueCodes) {
  EXPECT_EQ(*NormalisePostcode("B-2000"), "2000");       // Belgium, with country prefix
  EXPECT_EQ(*NormalisePostcode("2000"), "2000");         // the same without
  EXPECT_EQ(*NormalisePostcode("D-47533"), "47533");     // Germany
  EXPECT_EQ(*NormalisePostcode("10115"), "10115");
  EXPECT_EQ(*NormalisePostcode("SW1A 1AA"), "SW1A1AA");  // United Kingdom
  EXPECT_EQ(*NormalisePostcode("75008"), "75008");       // France
  EXPECT_EQ(*NormalisePostcode("0123AB"), "0123AB");     // not a valid Dutch code: kept as is
}

TEST(PhoneTest, ForeignNumbersThroughLibphonenumber) {
  EXPECT_EQ(*NormalisePhone("+32 470 12 34 56"), "+32470123456");    // Belgian mobile
  EXPECT_EQ(*NormalisePhone("0032 470 12 34 56"), "+32470123456");
  EXPECT_EQ(*NormalisePhone("+49 171 1234567"), "+491711234567");    // German mobile
  EXPECT_EQ(*NormalisePhone("+44 20 7946 0958"), "+442079460958");  // London
}

TEST(DeletionNeighbourhoodTest, OneEditApartShareAMember) {
  auto shares = [](const std::string& a, const std::string& b) {
    auto x = DeletionNeighbourhood(a), y = DeletionNeighbourhood(b);
    for (const auto& v : x) {
      if (std::find(y.begin(), y.end(), v) != y.end()) return true;
    }
    return false;
  };
  EXPECT_TRUE(shares("jansen", "jansen"));
  EXPECT_TRUE(shares("jansen", "jamsen"));    // substitution
  EXPECT_TRUE(shares("jansen", "jannsen"));   // insertion
  EXPECT_TRUE(shares("jansen", "jasen"));     // deletion
  EXPECT_TRUE(shares("jansen", "jnasen"));    // transposition of neighbours
  EXPECT_FALSE(shares("jansen", "jnaesn"));   // two transpositions
  EXPECT_FALSE(shares("jansen", "pietersen"));
  EXPECT_EQ(DeletionNeighbourhood("bakker"),
            (std::vector<std::string>{"akker", "baker", "bakke", "bakker", "bakkr", "bkker"}));
  EXPECT_EQ(DeletionNeighbourhood("ali"), (std::vector<std::string>{"ali"}));
}

TEST(NameDeletionPairsTest, AnEditInEachNameLeavesAPairShared) {
  const std::string sep(1, kNameJoiner);
  auto shares = [&](const std::string& g1, const std::string& s1, const std::string& g2,
                    const std::string& s2) {
    auto x = NameDeletionPairs(g1 + sep + s1), y = NameDeletionPairs(g2 + sep + s2);
    for (const auto& v : x) {
      if (std::binary_search(y.begin(), y.end(), v)) return true;
    }
    return false;
  };
  EXPECT_TRUE(shares("mohammed", "jansen", "mohamed", "janssen"));   // deletion, insertion
  EXPECT_TRUE(shares("pieter", "bakker", "peiter", "bakkr"));        // transposition, deletion
  EXPECT_TRUE(shares("fatima", "elamrani", "fatma", "elamrany"));    // deletion, substitution
  EXPECT_FALSE(shares("pieter", "bakker", "petra", "bakker"));       // another given name
  EXPECT_FALSE(shares("stoyan", "kolev", "stoyan", "georgiev"));     // another surname
  EXPECT_FALSE(shares("julia", "bersma", "julia", "kuisma"));
  // Every member pair, sorted: 6 x 7 for "bakker" (6 members) and "jansen" (7).
  const auto pairs = NameDeletionPairs("bakker" + sep + "jansen");
  EXPECT_EQ(pairs.size(), 42u);
  EXPECT_TRUE(std::is_sorted(pairs.begin(), pairs.end()));
  EXPECT_TRUE(std::binary_search(pairs.begin(), pairs.end(), "bakkr" + sep + "jnsen"));
  // Too many pairs (13 x 15 letters): one edit in either name only.
  const auto long_names = NameDeletionPairs("alexandrianna" + sep + "vanderbijlsmaa");
  EXPECT_LE(long_names.size(), model::kMaxTokensPerMultiValuedRule);
  EXPECT_TRUE(std::binary_search(long_names.begin(), long_names.end(),
                                 "alexandriana" + sep + "vanderbijlsmaa"));
  EXPECT_FALSE(std::binary_search(long_names.begin(), long_names.end(),
                                  "alexandriana" + sep + "vanderbijlsma"));
  EXPECT_TRUE(NameDeletionPairs("bakker").empty());        // no surname
  EXPECT_TRUE(NameDeletionPairs(sep + "bakker").empty());  // no given name
}

TEST(DeriveLinkageFieldsTest, DerivedFieldsFollowTheirInputs) {
  Person p;
  p.Set(v1::FIELD_GIVEN_NAME_PHONETIC, "PTR");
  p.Set(v1::FIELD_SURNAME_PHONETIC, "JNSN");
  p.Set(v1::FIELD_DATE_OF_BIRTH, "20070314");
  p.Set(v1::FIELD_POSTCODE, "9711AB");
  p.Set(v1::FIELD_CITY, "groningen");
  p.Set(v1::FIELD_SURNAME, "jansen");
  DeriveLinkageFields(&p);
  EXPECT_EQ(p.Get(v1::FIELD_NAME_PAIR_PHONETIC), "JNSN|PTR");
  EXPECT_EQ(p.Get(v1::FIELD_DOB_YEAR_MONTH), "200703");
  EXPECT_EQ(p.Get(v1::FIELD_DOB_YEAR_DAY), "200714");
  EXPECT_EQ(p.Get(v1::FIELD_POSTCODE_AREA), "9711");
  EXPECT_EQ(p.Get(v1::FIELD_POSTCODE_DELETIONS), "9711AB");  // expanded by the tokeniser
  EXPECT_EQ(p.Get(v1::FIELD_CITY_PHONETIC), DutchPhonetic("groningen"));
  EXPECT_EQ(p.Get(v1::FIELD_SURNAME_DELETIONS), "jansen");
  EXPECT_FALSE(p.Has(v1::FIELD_GIVEN_NAME_DELETIONS));  // no first given name
  EXPECT_FALSE(p.Has(v1::FIELD_NAME_DELETIONS));        // needs both names
  p.Set(v1::FIELD_FIRST_GIVEN_NAME, "pieter");
  DeriveLinkageFields(&p);
  EXPECT_EQ(p.Get(v1::FIELD_NAME_DELETIONS), "pieter" + std::string(1, kNameJoiner) + "jansen");
  // Swapped names give the same pair.
  Person q;
  q.Set(v1::FIELD_GIVEN_NAME_PHONETIC, "JNSN");
  q.Set(v1::FIELD_SURNAME_PHONETIC, "PTR");
  DeriveLinkageFields(&q);
  EXPECT_EQ(q.Get(v1::FIELD_NAME_PAIR_PHONETIC), p.Get(v1::FIELD_NAME_PAIR_PHONETIC));
}

TEST(HouseNumberTest, CanonicalForm) {
  EXPECT_EQ(*NormaliseHouseNumber("12"), "12");
  EXPECT_EQ(*NormaliseHouseNumber("12 a"), "12A");
  EXPECT_EQ(*NormaliseHouseNumber("12-A"), "12A");
  EXPECT_EQ(*NormaliseHouseNumber("7bis"), "7BIS");
  for (const char* s : {"", "a12", "0", "012", "123456", "12/3"}) {
    EXPECT_THAT(NormaliseHouseNumber(s), StatusIs(kInvalid)) << s;
  }
}

}  // namespace
}  // namespace samenzicht::agency_node
