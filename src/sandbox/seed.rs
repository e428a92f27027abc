//! The deterministic seed: the same seed and counts always give the same portal. Names are made up from
//! common Russian and English first and last names; phones use fictional ranges and e-mails reserved
//! example domains, so no real person's data appears.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::config::SeedConfig;
use super::model::{CallList, Company, Contact, EntityKind, ListItem, Permissions, User, Webform, format_iso};
use super::state::State;

const RU_MALE: [&str; 16] = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Иван",
    "Егор",
    "Павел",
    "Роман",
    "Олег",
];
const RU_FEMALE: [&str; 16] = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Екатерина",
    "Светлана",
    "Юлия",
    "Дарья",
    "Ксения",
    "Алина",
    "Полина",
    "Виктория",
    "Софья",
];
/// Male forms; the female form adds `а` (Иванов → Иванова), except for names ending in `ий`.
const RU_LAST: [&str; 16] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
];
const RU_PATRONYMIC_M: [&str; 6] = ["Александрович", "Сергеевич", "Андреевич", "Игоревич", "Владимирович", "Олегович"];
const RU_PATRONYMIC_F: [&str; 6] = ["Александровна", "Сергеевна", "Андреевна", "Игоревна", "Владимировна", "Олеговна"];
const EN_FIRST: [&str; 20] = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Susan",
    "Richard",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "Matthew",
    "Emily",
];
const EN_LAST: [&str; 16] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Martin", "Jackson", "White", "Harris",
];
const RU_POSTS: [&str; 6] = ["Менеджер", "Директор", "Бухгалтер", "Инженер", "Руководитель отдела", "Закупщик"];
const EN_POSTS: [&str; 6] = ["Manager", "Director", "Accountant", "Engineer", "Head of Sales", "Buyer"];
const RU_COMPANY_WORDS: [&str; 12] = [
    "Ромашка",
    "Вектор",
    "Гранит",
    "Северный ветер",
    "Техносервис",
    "Альфа-Строй",
    "Меридиан",
    "Заря",
    "Квант",
    "Полюс",
    "Сибирь-Логистик",
    "Восход",
];
const RU_COMPANY_FORMS: [&str; 3] = ["ООО", "АО", "ИП"];
const EN_COMPANY_WORDS: [&str; 12] = [
    "Northwind",
    "Blue Harbor",
    "Summit",
    "Riverside",
    "Greenfield",
    "Silver Oak",
    "Redwood",
    "Brightline",
    "Ironbridge",
    "Clearwater",
    "Maple",
    "Horizon",
];
const EN_COMPANY_KINDS: [&str; 6] = ["Trading", "Logistics", "Consulting", "Foods", "Systems", "Supply"];
const EN_COMPANY_FORMS: [&str; 3] = ["LLC", "Inc.", "Ltd"];
const FORM_NAMES: [&str; 6] =
    ["Скрипт звонка", "Call script form", "Анкета клиента", "Customer survey", "Обратный звонок", "Feedback form"];

fn translit(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        let t = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' => "",
            'ы' => "y",
            'ь' => "",
            'э' => "e",
            'ю' => "yu",
            'я' => "ya",
            ' ' | '-' => "-",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(t);
    }
    out
}

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

fn ru_phone(rng: &mut StdRng) -> String {
    format!(
        "+7 9{:02} {:03}-{:02}-{:02}",
        rng.random_range(0..100),
        rng.random_range(0..1000),
        rng.random_range(0..100),
        rng.random_range(0..100)
    )
}

fn en_phone(rng: &mut StdRng) -> String {
    // 555-01xx numbers are reserved for fiction.
    format!("+1 {:03} 555-01{:02}", rng.random_range(201..990), rng.random_range(0..100))
}

/// The portal's users: an administrator and managers with different CRM rights (IDs 1–6; 6 was added last,
/// so 1–5 are what they always were).
pub fn users() -> Vec<User> {
    let u = |id, name: &str, last: &str, email: &str, pos: &str, lang: &str, permissions| User {
        id,
        name: name.into(),
        last_name: last.into(),
        email: email.into(),
        work_position: pos.into(),
        lang: lang.into(),
        permissions,
        active: true,
    };
    vec![
        u(
            1,
            "Анна",
            "Администраторова",
            "admin@example.ru",
            "Администратор портала",
            "ru",
            Permissions::administrator(),
        ),
        u(
            2,
            "Борис",
            "Продажин",
            "boris@example.ru",
            "Менеджер (контакты и компании)",
            "ru",
            Permissions::manager(true, true),
        ),
        u(
            3,
            "Carol",
            "Contacts",
            "carol@example.com",
            "Manager (contacts only)",
            "en",
            Permissions::manager(true, false),
        ),
        u(
            4,
            "Денис",
            "Компаниев",
            "denis@example.ru",
            "Менеджер (только компании)",
            "ru",
            Permissions::manager(false, true),
        ),
        u(5, "Eve", "Nocrm", "eve@example.com", "Employee (no CRM access)", "en", Permissions::manager(false, false)),
        u(
            OWN_MANAGER,
            "Фёдор",
            "Своих",
            "fedor@example.ru",
            "Менеджер (только свои контакты и компании)",
            "ru",
            Permissions::own_items(),
        ),
    ]
}

/// The manager who reads only the contacts and companies they are responsible for (Bitrix24's "own" level).
pub const OWN_MANAGER: u64 = 6;

/// Who can be responsible for a contact or company: every user with CRM rights.
const RESPONSIBLE: [u64; 5] = [1, 2, 3, 4, OWN_MANAGER];

/// Values of the `SOURCE` directory the seed uses.
const SOURCES: [&str; 8] = ["CALL", "EMAIL", "WEB", "ADVERTISING", "PARTNER", "RECOMMENDATION", "TRADE_SHOW", "OTHER"];

/// Spreads responsible users, contact sources and creation dates (over 2024 and 2025) across the generated
/// contacts and companies, so that filters by them pick some and not others. It has a generator of its own,
/// so the main one's sequence (names, phones, list members) is what it always was for a seed. In every
/// seeded list of two or more members the first is the "own" manager's and the second another user's, so
/// that manager always sees part of each list and not all of it.
fn spread(st: &mut State, cfg: &SeedConfig) {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x0005_eed0_0a55_1697);
    // 2024-01-01T00:00:00Z and two years of seconds after it.
    let (from, span) = (1_704_067_200_i64, 2 * 365 * 24 * 3600_i64);
    let created = |rng: &mut StdRng| format_iso(rng.random_range(from..from + span) as f64);
    for c in st.contacts.values_mut() {
        c.assigned_by_id = RESPONSIBLE[rng.random_range(0..RESPONSIBLE.len())];
        c.source_id = SOURCES[rng.random_range(0..SOURCES.len())].to_owned();
        c.created_time = created(&mut rng);
    }
    for c in st.companies.values_mut() {
        c.assigned_by_id = RESPONSIBLE[rng.random_range(0..RESPONSIBLE.len())];
        c.created_time = created(&mut rng);
    }
    let firsts: Vec<(EntityKind, Vec<u64>)> =
        st.lists.values().map(|l| (l.entity_type, l.ranked().iter().take(2).map(|i| i.element_id).collect())).collect();
    for (kind, ids) in firsts {
        if let [mine, other] = ids[..] {
            set_responsible(st, kind, mine, OWN_MANAGER);
            set_responsible(st, kind, other, 2);
        }
    }
}

fn set_responsible(st: &mut State, kind: EntityKind, id: u64, user: u64) {
    match kind {
        EntityKind::Contact => st.contacts.get_mut(&id).into_iter().for_each(|c| c.assigned_by_id = user),
        EntityKind::Company => st.companies.get_mut(&id).into_iter().for_each(|c| c.assigned_by_id = user),
    }
}

/// Fills `st` with the seed's users, contacts, companies, web forms and call lists.
pub fn populate(st: &mut State, cfg: &SeedConfig) {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let created = format_iso(1_735_700_000.0);
    for u in users() {
        st.users.insert(u.id, u);
    }
    let biggest = |kind| cfg.lists.iter().filter(|l| l.entity_type == kind).map(|l| l.members).max().unwrap_or(0);
    let n_companies = cfg.companies.max(biggest(EntityKind::Company));
    let n_contacts = cfg.contacts.max(biggest(EntityKind::Contact));

    for id in 1..=n_companies as u64 {
        let ru = rng.random_bool(0.6);
        let title = if ru {
            format!("{} «{}»", pick(&mut rng, &RU_COMPANY_FORMS), pick(&mut rng, &RU_COMPANY_WORDS))
        } else {
            format!(
                "{} {} {}",
                pick(&mut rng, &EN_COMPANY_WORDS),
                pick(&mut rng, &EN_COMPANY_KINDS),
                pick(&mut rng, &EN_COMPANY_FORMS)
            )
        };
        let slug = translit(title.split(['«', '»']).nth(1).unwrap_or(&title));
        let phones =
            if rng.random_bool(0.9) { vec![if ru { ru_phone(&mut rng) } else { en_phone(&mut rng) }] } else { vec![] };
        let emails = if rng.random_bool(0.8) {
            vec![format!("info@{}.example.{}", slug.trim_matches('-'), if ru { "ru" } else { "com" })]
        } else {
            vec![]
        };
        st.companies.insert(
            id,
            Company {
                id,
                title,
                phones,
                emails,
                contact_ids: vec![],
                assigned_by_id: 1,
                created_time: created.clone(),
            },
        );
    }
    for id in 1..=n_contacts as u64 {
        let ru = rng.random_bool(0.6);
        let female = rng.random_bool(0.5);
        let (name, last, second, post) = if ru {
            let name = if female { pick(&mut rng, &RU_FEMALE) } else { pick(&mut rng, &RU_MALE) };
            let base = pick(&mut rng, &RU_LAST);
            let last = if female { format!("{base}а") } else { base.to_owned() };
            let second = if female { pick(&mut rng, &RU_PATRONYMIC_F) } else { pick(&mut rng, &RU_PATRONYMIC_M) };
            (name.to_owned(), last, second.to_owned(), pick(&mut rng, &RU_POSTS).to_owned())
        } else {
            (
                pick(&mut rng, &EN_FIRST).to_owned(),
                pick(&mut rng, &EN_LAST).to_owned(),
                String::new(),
                pick(&mut rng, &EN_POSTS).to_owned(),
            )
        };
        let phones = match rng.random_range(0..10) {
            0 => vec![],
            1 => vec![ru_phone(&mut rng), en_phone(&mut rng)],
            _ => vec![if ru { ru_phone(&mut rng) } else { en_phone(&mut rng) }],
        };
        let emails = if rng.random_bool(0.75) {
            vec![format!("{}.{}{}@example.{}", translit(&name), translit(&last), id, if ru { "ru" } else { "com" })]
        } else {
            vec![]
        };
        let company_id = (n_companies > 0 && rng.random_bool(0.5)).then(|| rng.random_range(1..=n_companies as u64));
        if let Some(c) = company_id.and_then(|c| st.companies.get_mut(&c)) {
            c.contact_ids.push(id);
        }
        st.contacts.insert(
            id,
            Contact {
                id,
                name,
                last_name: last,
                second_name: second,
                honorific: String::new(),
                post,
                company_id,
                phones,
                emails,
                assigned_by_id: rng.random_range(1..=2),
                created_time: created.clone(),
                source_id: String::new(),
            },
        );
    }
    st.next_contact_id = n_contacts as u64 + 1;
    st.next_company_id = n_companies as u64 + 1;

    let mut form_id = 0;
    let mut add_form = |st: &mut State, rng: &mut StdRng, active: bool, default_type: bool| {
        form_id += 1;
        let id = form_id;
        let name = FORM_NAMES[(id as usize - 1) % FORM_NAMES.len()].to_owned();
        let code: String =
            (0..6).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)])).collect();
        st.webforms.insert(
            id,
            Webform {
                id,
                name,
                security_code: code,
                is_callback: id % 5 == 0,
                active,
                xml_id: String::new(),
                default_type,
            },
        );
    };
    for _ in 0..cfg.active_webforms {
        add_form(st, &mut rng, true, true);
    }
    for _ in 0..cfg.inactive_webforms {
        add_form(st, &mut rng, false, true);
    }
    // One form of another type: hidden from `crm.webform.list`, still accepted by `crm.calllist.update`.
    add_form(st, &mut rng, true, false);

    let statuses = ["IN_WORK", "IN_WORK", "IN_WORK", "IN_WORK", "SUCCESS", "WRONG_NUMBER", "STOP_CALLING"];
    for (i, seed) in cfg.lists.iter().enumerate() {
        let id = i as u64 + 1;
        let pool = match seed.entity_type {
            EntityKind::Contact => n_contacts,
            EntityKind::Company => n_companies,
        };
        let mut ids: Vec<u64> = (1..=pool as u64).collect();
        ids.shuffle(&mut rng);
        let items = ids
            .into_iter()
            .take(seed.members)
            .enumerate()
            .map(|(n, element_id)| ListItem {
                element_id,
                status: statuses[rng.random_range(0..statuses.len())].to_owned(),
                rank: (n as i64 + 1) * 10,
            })
            .collect();
        let webform_id = (id % 2 == 1 && cfg.active_webforms > 0).then_some(1);
        st.lists.insert(
            id,
            CallList {
                id,
                entity_type: seed.entity_type,
                webform_id,
                created_by_id: 1,
                date_create: "2025-01-15 10:00:00".into(),
                items,
            },
        );
    }
    st.next_list_id = cfg.lists.len() as u64 + 1;
    spread(st, cfg);
}
