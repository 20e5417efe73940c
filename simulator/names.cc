#include "simulator/names.h"

#include <map>
#include <set>
#include <utility>

#include "simulator/random.h"

namespace samenzicht::simulator {
namespace {

using Strings = std::vector<std::string>;

std::vector<OriginNames> BuildNames() {
  std::vector<OriginNames> n(kOriginCount);
  n[int(Origin::kDutch)] = {
      {"Daan", "Sem", "Lucas", "Milan", "Levi", "Thijs", "Jesse", "Bram", "Luuk", "Ruben",
       "Kevin", "Dylan", "Tim", "Stijn", "Jayden", "Noah", "Finn", "Niels", "Rick", "Bas",
       "Johannes", "Hendrik", "Wilhelmus", "Cornelis", "Jacobus", "Petrus", "Gerardus",
       "Alexander", "Erik", "Jeroen"},
      {"Emma", "Julia", "Sophie", "Lotte", "Sanne", "Anouk", "Lisa", "Fleur", "Tess", "Isa",
       "Eva", "Noa", "Britt", "Demi", "Romy", "Kim", "Chantal", "Melissa", "Jessica", "Naomi",
       "Johanna", "Elisabeth", "Catharina", "Maria", "Margaretha", "Anna", "Femke", "Iris"},
      {"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
       "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
       "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
       "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
       "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "van der Heijden",
       "Schouten", "van Beek", "Willems", "van Vliet", "Hoekstra", "Maas", "Verhoeven",
       "Koster", "van Dam", "van der Wal", "Prins", "Blom", "Huisman", "Postma", "Kuipers",
       "Wiersma", "Bosma", "Veenstra", "Hofstra", "Zijlstra", "ten Brink", "ter Horst",
       "in 't Veld", "Boersma", "Kramer", "Timmerman", "Huizinga", "Smid", "Venema",
       "Bolhuis", "Oosterhof", "van der Laan", "ten Cate", "Wieringa", "Dijkhuis"},
      {},
      {"Johannes", "Hendrik", "Jan", "Pieter", "Willem", "Cornelis", "Gerrit", "Jacob",
       "Marinus", "Adrianus"},
      {"Maria", "Johanna", "Anna", "Elisabeth", "Cornelia", "Hendrika", "Catharina",
       "Geertruida", "Wilhelmina", "Aaltje"},
  };
  n[int(Origin::kMoroccan)] = {
      {"Mohamed", "Youssef", "Ahmed", "Hamza", "Bilal", "Ayoub", "Mourad", "Khalid", "Nordin",
       "Anouar", "Soufiane", "Ilias", "Abdelkader", "Said"},
      {"Fatima", "Khadija", "Salma", "Noura", "Imane", "Soukaina", "Samira", "Hanane",
       "Nadia", "Meryem", "Aicha", "Ikram"},
      {"El Amrani", "Bouzid", "Benali", "El Idrissi", "Ouali", "Azzouzi", "El Khatib",
       "Bakkali", "Tahiri", "Boukhari", "Chaouch", "Amrani", "El Hamdaoui", "Ziani",
       "Bouali", "Aziz"},
      {}, {"Mohamed", "Ahmed"}, {"Fatima", "Zahra"},
  };
  n[int(Origin::kTurkish)] = {
      {"Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Murat", "Hakan", "Yusuf", "Kerem",
       "Onur", "Serkan", "Ömer"},
      {"Ayşe", "Fatma", "Elif", "Zeynep", "Merve", "Büşra", "Esra", "Emine", "Selin",
       "Özlem", "Derya", "Hatice"},
      {"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
       "Özdemir", "Arslan", "Doğan", "Koç", "Kılıç", "Aksoy", "Erdoğan"},
      {}, {}, {},
  };
  n[int(Origin::kSurinamese)] = {
      {"Rajesh", "Ravi", "Kenneth", "Romano", "Dennis", "Sunil", "Glenn", "Roy", "Anil",
       "Jermaine"},
      {"Shanti", "Priya", "Nadia", "Chantal", "Sharon", "Rowena", "Anjali", "Gwendolyn",
       "Sunita", "Natasha"},
      {"Sedney", "Pinas", "Kromodimedjo", "Ramdin", "Jagessar", "Biharie", "Mahabier",
       "Sitaldin", "Tjon A Joe", "Wijngaarde", "Amatdjais", "Ramcharan", "Doekhie",
       "Sewcharan"},
      {}, {"Ramesh", "Kumar"}, {"Devi", "Kumari"},
  };
  n[int(Origin::kAntillean)] = {
      {"Jurick", "Shurandy", "Giovanni", "Jurgen", "Rignald", "Ashley"},
      {"Shakira", "Jurena", "Gisella", "Kimberly", "Shanaisa", "Naomi"},
      {"Martina", "Isenia", "Rosalia", "Maduro", "Statia", "Wawoe", "Sulvaran", "Cijntje"},
      {}, {}, {},
  };
  n[int(Origin::kPolish)] = {
      {"Piotr", "Krzysztof", "Tomasz", "Paweł", "Łukasz", "Michał", "Kamil", "Jakub",
       "Marcin", "Grzegorz"},
      {"Anna", "Katarzyna", "Magdalena", "Agnieszka", "Joanna", "Małgorzata", "Natalia",
       "Aleksandra", "Monika", "Ewelina"},
      {"Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński",
       "Szymański", "Dąbrowski", "Kozłowski", "Mazur", "Krawczyk"},
      {"Kowalska", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowska", "Zielińska",
       "Szymańska", "Dąbrowska", "Kozłowska", "Mazur", "Krawczyk"},
      {"Jan", "Andrzej"}, {"Maria", "Anna"},
  };
  n[int(Origin::kRomanian)] = {
      {"Andrei", "Alexandru", "Ionuț", "Mihai", "Florin", "Gabriel", "Cristian", "Adrian"},
      {"Elena", "Ioana", "Maria", "Andreea", "Alexandra", "Mihaela", "Roxana", "Denisa"},
      {"Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Constantin", "Stoica", "Munteanu",
       "Rusu", "Lungu"},
      {}, {}, {},
  };
  n[int(Origin::kBulgarian)] = {
      {"Georgi", "Dimitar", "Ivan", "Nikolai", "Stoyan", "Hristo"},
      {"Maria", "Elena", "Desislava", "Gergana", "Yana", "Radostina"},
      {"Ivanov", "Georgiev", "Dimitrov", "Petrov", "Nikolov", "Stoyanov", "Kolev"},
      {"Ivanova", "Georgieva", "Dimitrova", "Petrova", "Nikolova", "Stoyanova", "Koleva"},
      {}, {},
  };
  n[int(Origin::kUkrainian)] = {
      {"Oleksandr", "Andrii", "Dmytro", "Ivan", "Maksym", "Serhii", "Bohdan", "Taras"},
      {"Olena", "Oksana", "Yuliia", "Nataliia", "Anna", "Iryna", "Olha", "Kateryna"},
      {"Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko",
       "Oliinyk", "Boiko", "Moroz", "Lysenko"},
      {}, {}, {},
  };
  n[int(Origin::kEritrean)] = {
      {"Yonas", "Dawit", "Filmon", "Merhawi", "Samuel", "Tesfay", "Habtom", "Biniam",
       "Robel", "Henok"},
      {"Helen", "Senait", "Saba", "Luwam", "Selam", "Ruta", "Lidia", "Feven", "Winta",
       "Yodit"},
      {"Tesfay", "Gebremedhin", "Haile", "Berhane", "Kidane", "Tekle", "Ghebreyesus",
       "Woldemichael", "Mehari", "Abraha", "Tesfamariam", "Okbazghi"},
      {}, {}, {},
  };
  n[int(Origin::kSyrian)] = {
      {"Mohammad", "Ahmad", "Omar", "Khaled", "Hassan", "Ali", "Mahmoud", "Yousef",
       "Abdullah", "Rami"},
      {"Fatima", "Aya", "Rania", "Noor", "Hiba", "Lina", "Mariam", "Rasha", "Hala", "Yasmin"},
      {"Al-Ahmad", "Al-Hassan", "Khalil", "Haddad", "Al-Ali", "Ibrahim", "Hamdan",
       "Al-Masri", "Darwish", "Kassem", "Saleh", "Othman"},
      {}, {}, {},
  };
  n[int(Origin::kAfghan)] = {
      {"Ahmad", "Mohammad", "Ali", "Reza", "Mustafa", "Farid", "Jawad", "Sayed"},
      {"Zahra", "Maryam", "Fatima", "Shabnam", "Parwana", "Mina", "Sahar", "Nilofar"},
      {"Ahmadi", "Mohammadi", "Hosseini", "Rahimi", "Karimi", "Sultani", "Noori", "Sadat"},
      {}, {}, {},
  };
  n[int(Origin::kNigerian)] = {
      {"Chinedu", "Emeka", "Osaze", "Samuel", "David", "Efosa", "Tunde"},
      {"Blessing", "Joy", "Precious", "Favour", "Gift", "Esther", "Osasu", "Faith"},
      {"Okafor", "Adeyemi", "Okonkwo", "Eze", "Obi", "Ogunleye", "Osagie", "Igbinedion",
       "Omoregie", "Edosa"},
      {}, {}, {},
  };
  return n;
}

// Groups of spellings of one name; every member maps to the others.
const std::vector<Strings>& VariantGroups() {
  static const auto* groups = new std::vector<Strings>{
      // Dutch surnames
      {"Jansen", "Janssen"}, {"Meijer", "Meyer", "Meier"}, {"Smit", "Smith"},
      {"Smid", "Smit"}, {"de Bruijn", "de Bruin", "de Bruyn"}, {"Dijkstra", "Dykstra"},
      {"Hendriks", "Hendrikx", "Hendrix"}, {"Kuipers", "Kuijpers", "Kuypers"},
      {"Huisman", "Huysman"}, {"Zijlstra", "Zylstra"}, {"Peters", "Pieters"},
      {"van der Heijden", "van der Heyden"}, {"de Groot", "de Grood"},
      {"Venema", "Veenema"}, {"Huizinga", "Huizenga"},
      {"Dijkhuis", "Dykhuis"}, {"Smits", "Smitz"}, {"Willems", "Willemse"},
      // Turkish
      {"Yılmaz", "Yilmaz"}, {"Şahin", "Sahin"}, {"Çelik", "Celik"},
      {"Öztürk", "Ozturk", "Oeztuerk"}, {"Yıldız", "Yildiz"}, {"Yıldırım", "Yildirim"},
      {"Doğan", "Dogan"}, {"Kılıç", "Kilic"}, {"Özdemir", "Ozdemir"}, {"Aydın", "Aydin"},
      {"Erdoğan", "Erdogan"}, {"Ayşe", "Ayse", "Aise"}, {"Büşra", "Busra"},
      {"Mehmet", "Mehmed"}, {"Özlem", "Ozlem"}, {"Ömer", "Omer"},
      // Moroccan and Arabic
      {"Mohamed", "Mohammed", "Muhammad", "Mohammad", "Mohamad"},
      {"Youssef", "Yousef", "Yusuf", "Youssouf"}, {"Ahmed", "Ahmad", "Ahmet"},
      {"Fatima", "Fatma", "Fatimah"}, {"Khadija", "Khadidja"}, {"Mustafa", "Mustapha"},
      {"Hassan", "Hasan"}, {"Khaled", "Khalid"}, {"Mahmoud", "Mahmud"}, {"Noor", "Nour"},
      {"Mariam", "Maryam", "Meryem"}, {"Ayoub", "Ayub"}, {"Mourad", "Murad"},
      {"Aicha", "Aisha", "Aïcha"}, {"Said", "Saïd"}, {"Anouar", "Anwar"},
      {"El Amrani", "Amrani", "Elamrani"}, {"Bouzid", "Bouzied"}, {"Benali", "Ben Ali"},
      {"El Idrissi", "Idrissi"}, {"Azzouzi", "Azouzi"}, {"El Khatib", "Elkhatib"},
      {"El Hamdaoui", "Hamdaoui"}, {"Al-Ahmad", "Alahmad", "Al Ahmad"},
      {"Al-Hassan", "Alhassan", "Al Hasan"}, {"Al-Ali", "Alali"}, {"Haddad", "Hadad"},
      {"Kassem", "Qassem", "Kasem"}, {"Al-Masri", "Almasri"}, {"Othman", "Osman"},
      {"Saleh", "Salih"}, {"Yasmin", "Yasmine"}, {"Abdullah", "Abdallah"},
      // Eastern European
      {"Oleksandr", "Olexandr", "Aleksandr"}, {"Andrii", "Andriy", "Andrij"},
      {"Serhii", "Serhiy", "Sergei"}, {"Yuliia", "Yulia", "Julia"},
      {"Nataliia", "Natalia"}, {"Olha", "Olga"}, {"Dmytro", "Dmitro"}, {"Maksym", "Maxim"},
      {"Iryna", "Irina"}, {"Kateryna", "Katerina"}, {"Shevchenko", "Shevtchenko", "Sjevtsjenko"},
      {"Kovalenko", "Kowalenko"}, {"Oliinyk", "Oliynyk"}, {"Boiko", "Boyko"},
      {"Łukasz", "Lukasz"}, {"Paweł", "Pawel"}, {"Michał", "Michal"},
      {"Małgorzata", "Malgorzata"}, {"Wiśniewski", "Wisniewski"}, {"Wiśniewska", "Wisniewska"},
      {"Dąbrowski", "Dabrowski"}, {"Dąbrowska", "Dabrowska"}, {"Kozłowski", "Kozlowski"},
      {"Kozłowska", "Kozlowska"}, {"Wójcik", "Wojcik"}, {"Zieliński", "Zielinski"},
      {"Ionuț", "Ionut"}, {"Andreea", "Andrea"}, {"Nikolai", "Nikolay"},
      {"Stoyanov", "Stojanov"}, {"Hristo", "Christo"},
      // Eritrean, Afghan, Nigerian, Surinamese
      {"Gebremedhin", "Ghebremedhin"}, {"Tesfay", "Tesfaye"}, {"Haile", "Hayle"},
      {"Ghebreyesus", "Gebreyesus"}, {"Woldemichael", "Weldemichael"}, {"Dawit", "Dawid"},
      {"Filmon", "Philmon"}, {"Helen", "Hellen"}, {"Senait", "Seneit"},
      {"Habtom", "Habtoum"}, {"Mohammadi", "Mohamadi"}, {"Hosseini", "Hoseini", "Husseini"},
      {"Osagie", "Osaghie"}, {"Kromodimedjo", "Kromodimejo"}, {"Jagessar", "Jaggesar"},
      {"Biharie", "Bihari"},
      // Dutch given names
      {"Sophie", "Sofie"}, {"Thijs", "Thys"}, {"Luuk", "Luc"}, {"Erik", "Eric"},
      {"Jayden", "Jaiden"}, {"Chantal", "Shantal"}, {"Jessica", "Jessika"},
      {"Naomi", "Naomie"}, {"Melissa", "Melisa"}, {"Kevin", "Kevyn"},
  };
  return *groups;
}

const std::map<std::string, Strings, std::less<>>& VariantMap() {
  static const auto* map = [] {
    auto* m = new std::map<std::string, Strings, std::less<>>;
    for (const Strings& g : VariantGroups()) {
      for (const std::string& a : g) {
        for (const std::string& b : g) {
          if (a == b) continue;
          Strings& v = (*m)[a];
          bool seen = false;
          for (const auto& x : v) seen |= x == b;
          if (!seen) v.push_back(b);
        }
      }
    }
    return m;
  }();
  return *map;
}

const std::map<std::string, Strings, std::less<>>& NicknameMap() {
  static const auto* map = new std::map<std::string, Strings, std::less<>>{
      {"Johannes", {"Jan", "Hans", "Johan"}}, {"Hendrik", {"Henk", "Rik"}},
      {"Wilhelmus", {"Wim", "Willem"}}, {"Cornelis", {"Kees"}}, {"Jacobus", {"Jaap", "Koos"}},
      {"Petrus", {"Piet", "Peter"}}, {"Gerardus", {"Gerard", "Gert"}},
      {"Alexander", {"Alex", "Sander"}}, {"Johanna", {"Hanna", "Anneke"}},
      {"Elisabeth", {"Lisa", "Els", "Liesbeth"}}, {"Catharina", {"Karin", "Tineke"}},
      {"Maria", {"Marieke", "Mies"}}, {"Margaretha", {"Greet", "Margriet"}},
      {"Mohamed", {"Mo"}}, {"Mohammed", {"Mo"}}, {"Mohammad", {"Mo"}},
      {"Abdelkader", {"Kader"}}, {"Soufiane", {"Sofian"}}, {"Oleksandr", {"Sasha"}},
      {"Katarzyna", {"Kasia"}}, {"Aleksandra", {"Ola"}}, {"Małgorzata", {"Gosia"}},
      {"Alexandra", {"Alex"}}, {"Magdalena", {"Magda"}}, {"Krzysztof", {"Krzys"}},
      {"Jermaine", {"Jerry"}}, {"Gwendolyn", {"Gwen"}}, {"Natasha", {"Tasha"}},
      {"Kimberly", {"Kim"}}, {"Abdullah", {"Abdul"}}, {"Kateryna", {"Katya"}},
      {"Dimitar", {"Mitko"}}, {"Gabriel", {"Gabi"}},
  };
  return *map;
}

const std::map<std::string, std::string, std::less<>>& NativeMap() {
  static const auto* map = new std::map<std::string, std::string, std::less<>>{
      // Ukrainian in Cyrillic
      {"Oleksandr", "Олександр"}, {"Andrii", "Андрій"}, {"Dmytro", "Дмитро"},
      {"Ivan", "Іван"}, {"Maksym", "Максим"}, {"Serhii", "Сергій"}, {"Bohdan", "Богдан"},
      {"Taras", "Тарас"}, {"Olena", "Олена"}, {"Oksana", "Оксана"}, {"Yuliia", "Юлія"},
      {"Nataliia", "Наталія"}, {"Anna", "Анна"}, {"Iryna", "Ірина"}, {"Olha", "Ольга"},
      {"Kateryna", "Катерина"}, {"Shevchenko", "Шевченко"}, {"Kovalenko", "Коваленко"},
      {"Bondarenko", "Бондаренко"}, {"Tkachenko", "Ткаченко"}, {"Melnyk", "Мельник"},
      {"Kravchenko", "Кравченко"}, {"Oliinyk", "Олійник"}, {"Boiko", "Бойко"},
      {"Moroz", "Мороз"}, {"Lysenko", "Лисенко"},
      // Syrian and Moroccan in Arabic
      {"Mohammad", "محمد"}, {"Mohamed", "محمد"}, {"Ahmad", "أحمد"}, {"Ahmed", "أحمد"},
      {"Omar", "عمر"}, {"Khaled", "خالد"}, {"Hassan", "حسن"}, {"Ali", "علي"},
      {"Mahmoud", "محمود"}, {"Yousef", "يوسف"}, {"Youssef", "يوسف"},
      {"Abdullah", "عبد الله"}, {"Rami", "رامي"}, {"Fatima", "فاطمة"}, {"Aya", "آية"},
      {"Rania", "رانيا"}, {"Noor", "نور"}, {"Hiba", "هبة"}, {"Lina", "لينا"},
      {"Mariam", "مريم"}, {"Rasha", "رشا"}, {"Hala", "هالة"}, {"Yasmin", "ياسمين"},
      {"Khadija", "خديجة"}, {"Al-Ahmad", "الأحمد"}, {"Al-Hassan", "الحسن"},
      {"Khalil", "خليل"}, {"Haddad", "حداد"}, {"Al-Ali", "العلي"}, {"Ibrahim", "إبراهيم"},
      {"Hamdan", "حمدان"}, {"Al-Masri", "المصري"}, {"Darwish", "درويش"},
      {"Kassem", "قاسم"}, {"Saleh", "صالح"}, {"Othman", "عثمان"},
  };
  return *map;
}

const Strings& Empty() {
  static const auto* e = new Strings;
  return *e;
}

}  // namespace

std::string_view OriginName(Origin o) {
  static constexpr std::string_view kNames[kOriginCount] = {
      "dutch",     "moroccan", "turkish",   "surinamese", "antillean", "polish", "romanian",
      "bulgarian", "ukrainian", "eritrean", "syrian",     "afghan",    "nigerian"};
  return kNames[static_cast<int>(o)];
}

const OriginNames& NamesOf(Origin o) {
  static const auto* names = new std::vector<OriginNames>(BuildNames());
  return (*names)[static_cast<int>(o)];
}

const std::vector<std::string>& SpellingVariants(std::string_view name) {
  const auto& m = VariantMap();
  auto it = m.find(name);
  return it == m.end() ? Empty() : it->second;
}

const std::vector<std::string>& Nicknames(std::string_view given_name) {
  const auto& m = NicknameMap();
  auto it = m.find(given_name);
  return it == m.end() ? Empty() : it->second;
}

std::string_view NativeScript(std::string_view latin) {
  const auto& m = NativeMap();
  auto it = m.find(latin);
  return it == m.end() ? std::string_view() : std::string_view(it->second);
}

std::pair<std::string, std::string> SplitSurnamePrefix(std::string_view full) {
  static const std::vector<std::string_view> kPrefixes = {
      "van der ", "van den ", "van de ", "in 't ", "van ", "de ", "den ", "der ",
      "ten ",     "ter ",     "te ",     "het ",   "'t "};
  for (std::string_view p : kPrefixes) {
    if (full.size() > p.size() && full.substr(0, p.size()) == p) {
      return {std::string(p.substr(0, p.size() - 1)), std::string(full.substr(p.size()))};
    }
  }
  return {"", std::string(full)};
}


namespace {
// A district of a real town has dozens of streets, and a street's house numbers are split over
// postcodes of about a dozen numbers each (one side of a stretch of street). The named streets
// above are the district's well-known ones; the district gets further streets whose names
// follow the common Dutch patterns (a tree, bird, flower, painter or writer with a suffix), so
// that the municipality has about 70,000 addresses and two persons share a street and house
// number about as rarely as in a town of 230,000 inhabitants.
std::vector<District>* WithGeneratedStreets(std::vector<District>* districts) {
  static const char* kStems[] = {
      "Eiken", "Beuken", "Linden", "Berken", "Wilgen", "Essen", "Populieren", "Iepen",
      "Kastanje", "Lijsterbes", "Meidoorn", "Hazelaar", "Merel", "Lijster", "Spreeuw",
      "Zwaluw", "Mussen", "Kievit", "Reiger", "Specht", "Wielewaal", "Roodborst", "Tulpen",
      "Rozen", "Narcissen", "Hyacinten", "Seringen", "Violieren", "Anjer", "Krokus",
      "Rembrandt", "Vermeer", "Frans Hals", "Jan Steen", "Mesdag", "Israels", "Mondriaan",
      "Bredero", "Vondel", "Multatuli", "Bilderdijk", "Tollens", "Da Costa", "Beets",
      "Hooft", "Huygens", "Cats", "Potgieter", "Marnix", "Oranje", "Nassau", "Willem Lodewijk",
      "Juliana", "Wilhelmina", "Beatrix", "Emma", "Sophia", "Frederik", "Hendrik", "Molen",
      "Kerk", "School", "Dorps", "Veld", "Dijk", "Haven", "Sluis", "Brug", "Akker", "Weide"};
  static const char* kSuffixes[] = {"straat", "laan", "weg", "plein", "singel", "kade",
                                    "hof", "pad"};
  const size_t n = districts->size();
  size_t k = 0;
  for (const char* stem : kStems) {
    for (const char* suffix : kSuffixes) {
      const std::string name = std::string(stem) + suffix;
      // spread the names over the districts by weight-free rotation; skip names taken
      District& d = (*districts)[k++ % n];
      bool taken = false;
      for (const District& other : *districts) {
        for (const std::string& s : other.streets) taken = taken || s == name;
      }
      if (!taken) d.streets.push_back(name);
    }
  }
  return districts;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::string PostcodeFor(const District& d, std::string_view street, std::string_view house_number) {
  static const std::string kLetters = "ABCDEGHJKLMNPRSTVWXZ";
  int number = 0;
  for (char c : house_number) {
    if (c < '0' || c > '9') break;
    number = number * 10 + (c - '0');
  }
  // the street's four digits; then one pair of letters per side of a stretch of 24 numbers
  const int digits = d.postcode_numbers[Fnv1a(street) % d.postcode_numbers.size()];
  uint64_t h = Fnv1a(std::string(street) + "/" + std::to_string(number / 24) + "/" +
                     std::to_string(number % 2));
  std::string letters;
  do {
    letters = {kLetters[h % kLetters.size()], kLetters[(h / kLetters.size()) % kLetters.size()]};
    h = h * 6364136223846793005ULL + 1442695040888963407ULL;
  } while (letters == "SA" || letters == "SD" || letters == "SS");
  return std::to_string(digits) + letters;
}


void SkipRandomPostcode(Rng& rng, const District& d) {
  static const std::string kLetters = "ABCDEGHJKLMNPRSTVWXZ";
  std::string letters;
  do {
    letters = {kLetters[rng.Below(kLetters.size())], kLetters[rng.Below(kLetters.size())]};
  } while (letters == "SA" || letters == "SD" || letters == "SS");
  rng.Pick(d.postcode_numbers);
}

const std::vector<District>& Districts() {
  // Weights: the working areas of the survey's respondents (report 002, appendix A:
  // Binnenstad 26, Oude Wijken 20, West 18, Oost 15, Zuid 15, Haren 6, Ten Boer 2).
  static const auto* d = WithGeneratedStreets(new std::vector<District>{
      {"binnenstad", 26, {9711, 9712},
       {"Oosterstraat", "Folkingestraat", "Herestraat", "Vismarkt", "Oude Ebbingestraat",
        "Poelestraat", "Zwanestraat", "Gedempte Zuiderdiep", "Turfsingel",
        "Nieuwe Ebbingestraat"}},
      {"oude_wijken", 20, {9713, 9714, 9715, 9716, 9717, 9718},
       {"Korreweg", "Nieuwe Boteringestraat", "Oranjesingel", "Noorderbinnensingel",
        "Kerklaan", "Prinsesseweg", "Rembrandt van Rijnstraat", "Bedumerweg",
        "Star Numanstraat", "Noorderhaven"}},
      {"west", 18, {9741, 9742, 9743, 9744, 9745, 9746, 9747},
       {"Siersteenlaan", "Zonnelaan", "Paddepoelsterweg", "Selwerderdwarsweg", "Eikenlaan",
        "Pioenstraat", "Zuiderweg", "Hoogeweg", "Pleiadenlaan", "Vinkenstraat"}},
      {"oost", 15, {9731, 9732, 9733, 9734, 9735, 9736, 9737},
       {"Beijumerweg", "Oosterhamrikkade", "Jan Goeverneurlaan", "Dierenriemstraat",
        "Kluiverboom", "Bisschop Nicolaasstraat", "Wielewaalplein", "Kornoeljestraat",
        "Damsterdiep", "Zaagmuldersweg"}},
      {"zuid", 15, {9721, 9722, 9723, 9724, 9725, 9726, 9727, 9728},
       {"Helperzoom", "Hereweg", "Van Iddekingeweg", "Paterswoldseweg",
        "Laan Corpus den Hoorn", "Merelstraat", "Verlengde Hereweg", "Van Swietenlaan",
        "Goudlaan", "Esperantostraat"}},
      {"haren", 6, {9750, 9751, 9752, 9753},
       {"Rijksstraatweg", "Oude Middelhorsterweg", "Kerklaan", "Meerweg", "Emmalaan",
        "Onnemaweg"}},
      {"ten_boer", 2, {9791, 9792},
       {"Stedumerstraat", "Kerkstraat", "Wigboldstraat", "Ganzevoortsingel",
        "Bovenrijgeweg"}},
  });
  return *d;
}

std::string_view NameFrequenciesName(NameFrequencies f) {
  return f == NameFrequencies::kZipf ? "zipf" : "uniform";
}

const std::vector<std::string>& RareDutchSurnames() {
  static const auto* rare = [] {
    // Stems of Dutch place and farm names, and the endings and prefixes that make family
    // names of them (Frisian/Groningen -stra, -sma, -ema, -inga; -huis, -veld, -kamp ...).
    const std::vector<std::string> stems = {
        "Hof", "Brink", "Dal", "Ter", "Wes", "Hol", "Zand", "Beuk", "Wil", "Ek", "Hoog",
        "Lin", "Mol", "Ros", "Stol", "Haar", "Bolt", "Kui", "Wolt", "Grev", "Hel", "Sie",
        "Vel", "Ber", "Oost", "Noor", "Ad", "Bram", "Dor", "Eel", "Fok", "Gaal", "Harm",
        "Jel", "Kamp", "Lub", "Meen", "Niem", "Otter", "Pos", "Reit", "Sloot", "Til",
        "Uit", "Vaar", "Wier", "Zijl", "Hum", "Tjaar", "Sjo"};
    const std::vector<std::string> endings = {
        "stra", "sma", "ema", "inga", "enga", "huis", "huizen", "veld", "kamp", "man",
        "mans", "ink", "ing", "er", "ers", "ens", "sen", "horst", "dijk", "berg", "broek",
        "hout", "beek", "weg"};
    const std::vector<std::string> prefixes = {"van", "van de", "van der", "ter", "te"};
    const std::vector<std::string> place_endings = {"huizen", "veld", "dijk", "berg",
                                                    "broek", "hout", "beek", "horst"};
    std::set<std::string> common(NamesOf(Origin::kDutch).surnames.begin(),
                                 NamesOf(Origin::kDutch).surnames.end());
    std::set<std::string> seen;
    auto* v = new std::vector<std::string>;
    auto add = [&](std::string name) {
      if (common.count(name) == 0 && seen.insert(name).second) v->push_back(std::move(name));
    };
    // Interleaved so that every stem and ending appears early and late in the ranks.
    for (size_t e = 0; e < endings.size(); ++e) {
      for (size_t s = 0; s < stems.size(); ++s) add(stems[(s + e) % stems.size()] + endings[e]);
    }
    for (size_t pe = 0; pe < place_endings.size(); ++pe) {
      for (size_t s = 0; s < stems.size(); ++s) {
        for (size_t p = 0; p < prefixes.size(); ++p) {
          add(prefixes[(p + s) % prefixes.size()] + " " + stems[s] + place_endings[pe]);
        }
      }
    }
    return v;
  }();
  return *rare;
}

size_t ZipfRank(Rng& rng, size_t n) {
  constexpr double kOffset = 9;
  double total = 0;
  for (size_t k = 1; k <= n; ++k) total += 1.0 / (static_cast<double>(k) + kOffset);
  double x = rng.Real() * total;
  for (size_t k = 1; k <= n; ++k) {
    double w = 1.0 / (static_cast<double>(k) + kOffset);
    if (x < w) return k - 1;
    x -= w;
  }
  return n - 1;
}

}  // namespace samenzicht::simulator
