"""Real CIP 2020 program titles by family, for College Navigator's Programs/Majors table."""

from __future__ import annotations

# family title -> [(program title, levels)]; levels: c=certificate, a=associate, b=bachelor, m=master, d=doctor
CIP_FAMILIES: dict[str, list[tuple[str, str]]] = {
    "Agricultural/Animal/Plant/Veterinary Science and Related Fields": [
        ("Agricultural Business and Management, General", "abm"), ("Animal Sciences, General", "abmd"),
        ("Veterinary/Animal Health Technology/Technician and Veterinary Assistant", "ca"), ("Horticultural Science", "cabm")],
    "Natural Resources and Conservation": [
        ("Environmental Science", "bmd"), ("Forestry, General", "abm"), ("Wildlife, Fish and Wildlands Science and Management", "bm")],
    "Architecture and Related Services": [
        ("Architecture", "bm"), ("Landscape Architecture", "bm"), ("City/Urban, Community, and Regional Planning", "bm")],
    "Communication, Journalism, and Related Programs": [
        ("Communication, General", "abm"), ("Journalism", "bm"), ("Public Relations/Image Management", "bm")],
    "Communications Technologies/Technicians and Support Services": [
        ("Graphic Communications, General", "ca"), ("Radio and Television Broadcasting Technology/Technician", "ca")],
    "Computer and Information Sciences and Support Services": [
        ("Computer and Information Sciences, General", "abmd"), ("Computer Programming/Programmer, General", "ca"),
        ("Information Technology", "cabm"), ("Computer Systems Networking and Telecommunications", "cab"),
        ("Cyber/Computer Forensics and Counterterrorism", "cabm"), ("Computer Science", "bmd")],
    "Personal and Culinary Services": [
        ("Cosmetology/Cosmetologist, General", "ca"), ("Barbering/Barber", "c"), ("Culinary Arts/Chef Training", "ca"),
        ("Massage Therapy/Therapeutic Massage", "ca"), ("Nail Technician/Specialist and Manicurist", "c"),
        ("Esthetician/Esthetics and Skin Care Specialist", "c")],
    "Education": [
        ("Elementary Education and Teaching", "bm"), ("Early Childhood Education and Teaching", "cabm"),
        ("Special Education and Teaching, General", "bm"), ("Educational Leadership and Administration, General", "md"),
        ("Secondary Education and Teaching", "bm")],
    "Engineering": [
        ("Mechanical Engineering", "bmd"), ("Electrical and Electronics Engineering", "bmd"), ("Civil Engineering, General", "bmd"),
        ("Chemical Engineering", "bmd"), ("Computer Engineering, General", "bmd"), ("Biomedical/Medical Engineering", "bmd")],
    "Engineering/Engineering-related Technologies/Technicians": [
        ("Electrical, Electronic, and Communications Engineering Technology/Technician", "cab"),
        ("Drafting and Design Technology/Technician, General", "ca"), ("Industrial Technology/Technician", "cab"),
        ("Automation Engineer Technology/Technician", "ab")],
    "Foreign Languages, Literatures, and Linguistics": [
        ("Spanish Language and Literature", "bm"), ("French Language and Literature", "bm")],
    "Family and Consumer Sciences/Human Sciences": [
        ("Child Care Provider/Assistant", "ca"), ("Human Development and Family Studies, General", "bm")],
    "Legal Professions and Studies": [("Law", "d"), ("Legal Assistant/Paralegal", "cab")],
    "English Language and Literature/Letters": [("English Language and Literature, General", "abmd"), ("Creative Writing", "bm")],
    "Liberal Arts and Sciences, General Studies and Humanities": [
        ("Liberal Arts and Sciences/Liberal Studies", "ab"), ("General Studies", "ab")],
    "Biological and Biomedical Sciences": [
        ("Biology/Biological Sciences, General", "abmd"), ("Biochemistry", "bmd"), ("Microbiology, General", "bmd"), ("Neuroscience", "bd")],
    "Mathematics and Statistics": [("Mathematics, General", "abmd"), ("Statistics, General", "bmd")],
    "Multi/Interdisciplinary Studies": [("Data Science, General", "bm"), ("Multi-/Interdisciplinary Studies, Other", "abm")],
    "Parks, Recreation, Leisure, Fitness, and Kinesiology": [
        ("Kinesiology and Exercise Science", "abmd"), ("Sport and Fitness Administration/Management", "bm")],
    "Philosophy and Religious Studies": [("Philosophy", "bmd"), ("Religion/Religious Studies", "bm")],
    "Theology and Religious Vocations": [
        ("Bible/Biblical Studies", "abm"), ("Divinity/Ministry", "md"), ("Theology/Theological Studies", "bmd")],
    "Physical Sciences": [("Chemistry, General", "bmd"), ("Physics, General", "bmd"), ("Geology/Earth Science, General", "bmd")],
    "Psychology": [("Psychology, General", "abmd"), ("Clinical Psychology", "md"), ("Counseling Psychology", "md")],
    "Homeland Security, Law Enforcement, Firefighting and Related Protective Services": [
        ("Criminal Justice/Safety Studies", "abm"), ("Criminal Justice/Police Science", "ca"),
        ("Fire Science/Fire-fighting", "ca"), ("Corrections", "ca")],
    "Public Administration and Social Service Professions": [
        ("Social Work", "abm"), ("Public Administration", "bm"), ("Human Services, General", "abm")],
    "Social Sciences": [
        ("Economics, General", "bmd"), ("Political Science and Government, General", "bmd"),
        ("Sociology, General", "abmd"), ("Anthropology", "bmd")],
    "Construction Trades": [
        ("Electrician", "ca"), ("Plumbing Technology/Plumber", "c"), ("Carpentry/Carpenter", "ca"), ("Construction Trades, General", "ca")],
    "Mechanic and Repair Technologies/Technicians": [
        ("Automobile/Automotive Mechanics Technology/Technician", "ca"), ("Diesel Mechanics Technology/Technician", "ca"),
        ("Heating, Air Conditioning, Ventilation and Refrigeration Maintenance Technology/Technician", "ca"),
        ("Aircraft Powerplant Technology/Technician", "ca")],
    "Precision Production": [("Welding Technology/Welder", "ca"), ("Machine Tool Technology/Machinist", "ca")],
    "Transportation and Materials Moving": [
        ("Truck and Bus Driver/Commercial Vehicle Operator and Instructor", "c"),
        ("Airline/Commercial/Professional Pilot and Flight Crew", "cab")],
    "Visual and Performing Arts": [
        ("Music, General", "abmd"), ("Fine/Studio Arts, General", "abm"), ("Graphic Design", "cab"),
        ("Drama and Dramatics/Theatre Arts, General", "abm"), ("Dance, General", "bm")],
    "Health Professions and Related Programs": [
        ("Registered Nursing/Registered Nurse", "abm"), ("Licensed Practical/Vocational Nurse Training", "c"),
        ("Medical/Clinical Assistant", "ca"), ("Dental Hygiene/Hygienist", "ab"), ("Dental Assisting/Assistant", "c"),
        ("Radiologic Technology/Science - Radiographer", "ab"), ("Physical Therapy/Therapist", "d"),
        ("Physical Therapy Assistant", "a"), ("Occupational Therapy/Therapist", "md"), ("Occupational Therapist Assistant", "a"),
        ("Pharmacy", "d"), ("Pharmacy Technician/Assistant", "c"),
        ("Health Information/Medical Records Technology/Technician", "ca"),
        ("Health Information/Medical Records Administration/Administrator", "bm"),
        ("Health/Health Care Administration/Management", "bm"), ("Medical Insurance Coding Specialist/Coder", "ca"),
        ("Emergency Medical Technology/Technician (EMT Paramedic)", "ca"), ("Surgical Technology/Technologist", "ca"),
        ("Respiratory Care Therapy/Therapist", "ab"), ("Diagnostic Medical Sonography/Sonographer and Ultrasound Technician", "cab"),
        ("Clinical/Medical Laboratory Technician", "a"), ("Dietetics/Dietitian", "bm"), ("Speech-Language Pathology/Pathologist", "m"),
        ("Audiology/Audiologist", "d"), ("Medicine", "d"), ("Osteopathic Medicine/Osteopathy", "d"), ("Dentistry", "d"),
        ("Veterinary Medicine", "d"), ("Optometry", "d"), ("Chiropractic", "d"), ("Nurse Anesthetist", "md"),
        ("Family Practice Nurse/Nursing", "md"), ("Public Health, General", "bmd"), ("Health Informatics", "bm"),
        ("Nursing Assistant/Aide and Patient Care Assistant/Aide", "c"), ("Phlebotomy Technician/Phlebotomist", "c")],
    "Business, Management, Marketing, and Related Support Services": [
        ("Business Administration and Management, General", "cabmd"), ("Accounting", "cabm"), ("Finance, General", "bm"),
        ("Marketing/Marketing Management, General", "abm"), ("Human Resources Management/Personnel Administration, General", "abm"),
        ("Entrepreneurship/Entrepreneurial Studies", "cab"), ("Office Management and Supervision", "ca"),
        ("Medical Office Management/Administration", "ca")],
    "History": [("History, General", "bmd")],
}

ALL_PROGRAMS: dict[str, tuple[str, str]] = {
    title: (family, levels) for family, programs in CIP_FAMILIES.items() for title, levels in programs
}
"""program title -> (family, levels)"""
