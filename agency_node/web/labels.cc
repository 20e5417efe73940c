#include "agency_node/web/labels.h"

#include <map>
#include <utility>

namespace samenzicht::agency_node::web {
namespace {

using Pair = std::pair<const char*, const char*>;  // Dutch, English
using Table = std::map<std::string, Pair, std::less<>>;

const Table& Words() {
  static const Table* t = new Table{
      // form
      {"form/sexual", {"Seksuele uitbuiting", "Sexual exploitation"}},
      {"form/criminal", {"Criminele uitbuiting", "Criminal exploitation"}},
      {"form/sexual_and_criminal", {"Seksuele én criminele uitbuiting", "Sexual and criminal exploitation"}},
      {"form/labour", {"Arbeidsuitbuiting", "Labour exploitation"}},
      {"form/other", {"Andere vorm", "Other form"}},
      // contact
      {"contact/direct", {"Ik had zelf contact met de persoon", "I was in contact with the person"}},
      {"contact/observed", {"Ik heb het waargenomen of gehoord van anderen", "I observed it or heard it from others"}},
      // age band
      {"age_band/0_12", {"12 jaar of jonger", "12 or younger"}},
      {"age_band/13_17", {"13 tot en met 17 jaar", "13 to 17"}},
      {"age_band/18_26", {"18 tot en met 26 jaar", "18 to 26"}},
      {"age_band/27_plus", {"27 jaar of ouder", "27 or older"}},
      // gender
      {"gender/female", {"Vrouw", "Female"}},
      {"gender/male", {"Man", "Male"}},
      {"gender/other", {"Anders", "Other"}},
      // background
      {"background/dutch", {"Nederlands", "Dutch"}},
      {"background/european", {"Overig Europees", "Other European"}},
      {"background/non_european", {"Niet-Europees", "Non-European"}},
      // living situation
      {"living_situation/with_parents", {"Bij ouders of verzorgers", "With parents or carers"}},
      {"living_situation/with_exploiter", {"Bij de uitbuiter", "With the exploiter"}},
      {"living_situation/foster_family", {"Pleeggezin", "Foster family"}},
      {"living_situation/care_institution", {"Zorginstelling of begeleid wonen", "Care institution or supervised living"}},
      {"living_situation/asylum_shelter", {"Asielopvang", "Asylum shelter"}},
      {"living_situation/homeless", {"Dak- of thuisloos", "Homeless"}},
      {"living_situation/judicial_institution", {"Justitiële inrichting", "Judicial institution"}},
      {"living_situation/independent", {"Zelfstandig", "Independent"}},
      {"living_situation/other", {"Anders", "Other"}},
      // recruitment location
      {"recruitment_location/school_primary", {"Basisschool", "Primary school"}},
      {"recruitment_location/school_practical", {"Praktijkonderwijs", "Practical education"}},
      {"recruitment_location/school_secondary", {"Vmbo, havo of vwo", "Secondary school"}},
      {"recruitment_location/school_mbo", {"Mbo", "Vocational school (mbo)"}},
      {"recruitment_location/school_higher", {"Hbo of universiteit", "Higher education"}},
      {"recruitment_location/street", {"Straat of hangplek", "Street or hang-out"}},
      {"recruitment_location/community_centre", {"Buurthuis", "Community centre"}},
      {"recruitment_location/hospitality", {"Horeca, coffeeshop of shishalounge", "Hospitality, coffeeshop or shisha lounge"}},
      {"recruitment_location/care_institution", {"Zorginstelling", "Care institution"}},
      {"recruitment_location/sports_club", {"Sportclub", "Sports club"}},
      {"recruitment_location/refugee_shelter", {"Vluchtelingenopvang", "Refugee shelter"}},
      {"recruitment_location/homeless_shelter", {"Daklozenopvang", "Homeless shelter"}},
      {"recruitment_location/addiction_care", {"Verslavingszorg", "Addiction care"}},
      {"recruitment_location/abroad", {"Buitenland", "Abroad"}},
      {"recruitment_location/online", {"Online", "Online"}},
      {"recruitment_location/other", {"Anders", "Other"}},
      // coercion
      {"coercion/physical_violence", {"(Dreiging met) fysiek geweld", "(Threat of) physical violence"}},
      {"coercion/sextortion", {"Sextortion", "Sextortion"}},
      {"coercion/debt_bondage", {"Schuld of afbetaling", "Debt bondage"}},
      {"coercion/disclosure_threat", {"Dreigen iets openbaar te maken", "Threat of disclosure"}},
      {"coercion/eviction_threat", {"Dreigen met uitzetting", "Threat of eviction"}},
      {"coercion/illegal_stay_threat", {"Dreigen illegaal verblijf te melden", "Threat to report illegal stay"}},
      {"coercion/abuse_of_young_age", {"Misbruik van jonge leeftijd", "Abuse of young age"}},
      {"coercion/abuse_of_intellectual_disability", {"Misbruik van verstandelijke beperking", "Abuse of intellectual disability"}},
      {"coercion/addiction", {"Verslaving", "Addiction"}},
      {"coercion/other", {"Anders", "Other"}},
      // forced crime
      {"forced_crime/drugs", {"Drugs", "Drugs"}},
      {"forced_crime/theft", {"Diefstal, inbraak of zakkenrollen", "Theft, burglary or pickpocketing"}},
      {"forced_crime/robbery", {"Overval", "Robbery"}},
      {"forced_crime/violent_crime", {"Geweldsdelict", "Violent crime"}},
      {"forced_crime/money_mule", {"Geldezel of witwassen", "Money mule or laundering"}},
      {"forced_crime/straw_man", {"Katvanger", "Straw man"}},
      {"forced_crime/forced_purchases", {"Gedwongen aankopen of telefoonabonnementen", "Forced purchases or phone contracts"}},
      {"forced_crime/recruiting", {"Anderen werven voor prostitutie", "Recruiting others for prostitution"}},
      {"forced_crime/begging", {"Bedelen", "Begging"}},
      {"forced_crime/other", {"Anders", "Other"}},
  };
  return *t;
}

const Table& Fields() {
  static const Table* t = new Table{
      {"given_names", {"Voornamen", "Given names"}},
      {"surname", {"Achternaam", "Surname"}},
      {"date_of_birth", {"Geboortedatum", "Date of birth"}},
      {"national_id", {"BSN (burgerservicenummer)", "Citizen service number (BSN)"}},
      {"phone", {"Telefoonnummer", "Phone number"}},
      {"email", {"E-mailadres", "E-mail address"}},
      {"postcode", {"Postcode", "Postcode"}},
      {"house_number", {"Huisnummer", "House number"}},
      {"form", {"Vorm van uitbuiting", "Form of exploitation"}},
      {"contact", {"Hoe weet u het?", "How do you know?"}},
      {"age_band", {"Leeftijd (als geboortedatum onbekend is)", "Age (when the date of birth is unknown)"}},
      {"gender", {"Geslacht", "Gender"}},
      {"background", {"Achtergrond", "Background"}},
      {"living_situation", {"Woonsituatie", "Living situation"}},
      {"recruitment_location", {"Plaats van werving", "Where recruited"}},
      {"coercion", {"Dwangmiddelen", "Means of coercion"}},
      {"forced_crime", {"Gedwongen criminaliteit", "Forced crime"}},
      {"area", {"Wijk", "District"}},
      {"signal_month", {"Maand van het signaal", "Month of the signal"}},
      {"name", {"Naam", "Name"}},
      {"password", {"Wachtwoord", "Password"}},
      {"role", {"Rol", "Role"}},
      {"password_repeat", {"Wachtwoord (nogmaals)", "Password (again)"}},
  };
  return *t;
}

const Table& Texts() {
  static const Table* t = new Table{
      {"title", {"Signaal melden", "Register a signal"}},
      {"skip", {"Naar het formulier", "Skip to the form"}},
      {"login_title", {"Inloggen", "Sign in"}},
      {"login_button", {"Inloggen", "Sign in"}},
      {"logout_button", {"Uitloggen", "Sign out"}},
      {"wrong_password", {"Naam of wachtwoord klopt niet.", "Name or password is wrong."}},
      {"too_many", {"Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
                    "Too many failed attempts. Try again in a quarter of an hour."}},
      {"csrf", {"Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
                "The form has expired. Reload the page and try again."}},
      {"what_leaves_title", {"Wat verlaat uw organisatie?", "What leaves your organisation?"}},
      {"what_leaves",
       {"Alleen versleutelde kenmerken (tokens) en de categorieën die u hieronder kiest gaan naar "
        "de gemeente. Een token is een sleutelcode die uit de gegevens wordt berekend met een "
        "geheime sleutel die de gemeente niet heeft: de gemeente kan er geen naam, geboortedatum, "
        "BSN, telefoonnummer of adres uit terugrekenen. Zo kan de gemeente alleen tellen hoeveel "
        "verschillende personen gesignaleerd zijn, zonder te weten wie.",
        "Only encrypted codes (tokens) and the categories you choose below go to the "
        "municipality. A token is computed from the details with a secret key the municipality "
        "does not have: it cannot recover a name, date of birth, citizen service number, phone "
        "number or address from it. The municipality can only count how many different people "
        "were signalled, not who they are."}},
      {"what_stays",
       {"Wat u hieronder over de persoon invult, blijft binnen uw organisatie: versleuteld "
        "opgeslagen op deze server, alleen om een correctie of een sleutelwissel mogelijk te "
        "maken, en automatisch verwijderd na %d dagen of zodra u het signaal intrekt. Uw naam "
        "en uw organisatie-interne referentie gaan niet naar de gemeente.",
        "What you enter about the person stays inside your organisation: stored encrypted on "
        "this server, only to allow a correction or a key change, and deleted automatically "
        "after %d days or as soon as you withdraw the signal. Your name and your local "
        "reference do not go to the municipality."}},
      {"person_legend", {"Over de persoon (vul in wat u weet)", "About the person (fill in what you know)"}},
      {"person_hint",
       {"Alles is optioneel. Het meest helpen: het BSN, of voornaam, achternaam en geboortedatum "
        "samen. Ook nuttig: telefoonnummer of e-mailadres. Zo herkent het systeem dezelfde "
        "persoon in signalen van andere organisaties.",
        "Everything is optional. Most helpful: the citizen service number, or given name, "
        "surname and date of birth together. Also useful: phone number or e-mail address. That "
        "is how the system recognises the same person in other organisations' signals."}},
      {"signal_legend", {"Over het signaal", "About the signal"}},
      {"required", {"verplicht", "required"}},
      {"unknown", {"Onbekend", "Unknown"}},
      {"choose", {"Kies…", "Choose…"}},
      {"submit", {"Signaal versturen", "Send signal"}},
      {"correct_button", {"Correctie versturen", "Send correction"}},
      {"withdraw_button", {"Signaal intrekken", "Withdraw signal"}},
      {"errors_title", {"Het signaal is niet verstuurd. Controleer:", "The signal was not sent. Please check:"}},
      {"missing", {"is verplicht", "is required"}},
      {"invalid", {"klopt niet", "is not valid"}},
      {"future", {"ligt in de toekomst", "is in the future"}},
      {"receipt_title", {"Ontvangen", "Received"}},
      {"receipt",
       {"Uw signaal is ontvangen en staat klaar om (versleuteld) naar de gemeente te gaan. Uw "
        "referentie is:",
        "Your signal was received and is queued to go (encrypted) to the municipality. Your "
        "reference is:"}},
      {"corrected", {"De correctie is ontvangen.", "The correction was received."}},
      {"withdrawn", {"Het signaal is ingetrokken. De gemeente telt het niet meer mee.",
                     "The signal is withdrawn. The municipality no longer counts it."}},
      {"withdrawn_state", {"ingetrokken", "withdrawn"}},
      {"sent_state", {"verstuurd", "sent"}},
      {"correct_title", {"Corrigeren", "Correct"}},
      {"correct_hint",
       {"Pas de categorieën of de maand aan. De gegevens over de persoon blijven zoals ze waren.",
        "Change the categories or the month. The details about the person stay as they were."}},
      {"no_identifiers",
       {"De persoonsgegevens van dit signaal zijn al verwijderd; corrigeren kan niet meer. Trek "
        "het in en meld het opnieuw.",
        "The person's details of this signal have already been deleted; it can no longer be "
        "corrected. Withdraw it and register it again."}},
      {"withdraw_title", {"Intrekken", "Withdraw"}},
      {"withdraw_hint", {"Trek het signaal in als het niet klopt of dubbel is gemeld.",
                         "Withdraw the signal if it is wrong or was registered twice."}},
      {"mine", {"Mijn signalen", "My signals"}},
      {"none", {"U heeft nog geen signalen gemeld.", "You have not registered any signals yet."}},
      {"new_signal", {"Nieuw signaal", "New signal"}},
      {"back", {"Terug naar het formulier", "Back to the form"}},
      {"reference", {"Referentie", "Reference"}},
      {"state", {"Status", "State"}},
      {"changed", {"Gewijzigd", "Changed"}},
      {"other_lang", {"English", "Nederlands"}},
      {"not_found", {"Dit signaal bestaat niet of is niet van u.", "This signal does not exist or is not yours."}},
      {"already_withdrawn", {"Dit signaal is al ingetrokken.", "This signal is already withdrawn."}},
      // The operator's page of accounts.
      {"accounts_link", {"Accounts beheren", "Manage accounts"}},
      {"accounts_title", {"Accounts van deze pagina", "Accounts of this page"}},
      {"accounts_hint",
       {"Wie hier een account heeft, kan signalen melden en zijn eigen signalen corrigeren of "
        "intrekken. Een beheerder beheert ook de accounts. Geef de naam en het wachtwoord "
        "persoonlijk door; een verwijderd account wordt direct uitgelogd.",
        "Whoever has an account here can register signals and correct or withdraw their own. "
        "An operator also manages the accounts. Hand over the name and password in person; a "
        "removed account is signed out at once."}},
      {"role_professional", {"Professional", "Professional"}},
      {"role_operator", {"Beheerder", "Operator"}},
      {"created", {"Aangemaakt", "Created"}},
      {"add_account", {"Account toevoegen", "Add an account"}},
      {"remove_button", {"Verwijderen", "Remove"}},
      {"account_errors_title", {"Het account is niet aangemaakt. Controleer:",
                                "The account was not added. Please check:"}},
      {"too_short", {"is te kort (minstens 12 tekens)", "is too short (at least 12 characters)"}},
      {"mismatch", {"komt niet overeen", "does not match"}},
      {"account_added", {"Het account is toegevoegd.", "The account was added."}},
      {"account_removed", {"Het account is verwijderd en uitgelogd.",
                           "The account was removed and signed out."}},
      {"account_exists", {"Er is al een account met deze naam.", "There is already an account with this name."}},
      {"account_not_found", {"Dit account bestaat niet (meer).", "This account does not exist (any more)."}},
      {"cannot_remove_self", {"U kunt uw eigen account niet verwijderen; vraag een andere beheerder.",
                              "You cannot remove your own account; ask another operator."}},
      {"operator_only", {"Alleen een beheerder kan de accounts beheren.",
                         "Only an operator can manage the accounts."}},
      {"account_error", {"Er ging iets mis op de server; er is niets gewijzigd.",
                         "Something went wrong on the server; nothing was changed."}},
      {"error", {"Er ging iets mis op de server; het signaal is niet verstuurd. Probeer het later opnieuw.",
                 "Something went wrong on the server; the signal was not sent. Try again later."}},
  };
  return *t;
}

std::string Pick(const Table& t, std::string_view key, Lang lang, std::string_view fallback) {
  auto it = t.find(key);
  if (it == t.end()) return std::string(fallback);
  return lang == Lang::kNl ? it->second.first : it->second.second;
}

}  // namespace

std::string WordLabel(Lang lang, std::string_view field, std::string_view word) {
  std::string key(field);
  key += '/';
  key += word;
  return Pick(Words(), key, lang, word);
}

std::string FieldLabel(Lang lang, std::string_view field) {
  return Pick(Fields(), field, lang, field);
}

std::string Text(Lang lang, std::string_view key) { return Pick(Texts(), key, lang, key); }

}  // namespace samenzicht::agency_node::web
